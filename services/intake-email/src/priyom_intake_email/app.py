"""Wiring: the only place intake-email's parts meet.

Inbound: the SMTP endpoint and one IMAP reader per configured mailbox feed :class:`MailIntake`, which
publishes ``contact.received.v1.email``. Outbound: the ``intake-email.outbound`` consumer sends replies
through the relay and publishes ``reply.reported.v1.email``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from priyom_contracts import ContactReceived, binding
from priyom_kit import Bus, HttpClient, ServiceParts, build_app
from priyom_kit.blobs import open_blob_store
from priyom_kit.db import Database
from priyom_kit.erasure import serve_erasures
from priyom_kit.leases import open_leases
from priyom_kit.retention import RetentionRule, RetentionSweep

from . import erasure_redaction
from .imap.ingested_sweep import IngestedSweep
from .imap.readers import ImapReaders
from .intake import CHANNEL, MailIntake
from .mail.parsing import MailLimits
from .memory import ByteBudget
from .metrics import MailboxMetrics
from .outbound import register_outbound
from .relay import RelayConnections
from .sender_auth import SenderAuthenticator
from .sender_checks import Dns
from .settings import IntakeEmailSettings
from .sign_in import register_sign_in
from .smtp import SmtpEndpoint
from .staff_notices import register_staff_notices
from .store import Checkpoints, SentReplies, sent_replies


@dataclass
class Inbound:
    """The two doors mail comes in by. They open once a publish can be confirmed (``after_start``) and close
    while it still can (``before_stop``), so no mail is taken in that could not be put on the bus."""

    smtp: SmtpEndpoint
    readers: ImapReaders
    smtp_enabled: bool
    ingested_sweep: IngestedSweep

    async def start(self) -> None:
        if self.smtp_enabled:
            await self.smtp.start()
        self.readers.start()
        self.ingested_sweep.start()

    async def stop(self) -> None:
        await self.smtp.stop()
        await self.readers.stop()
        await self.ingested_sweep.stop()


def build(settings: IntakeEmailSettings | None = None) -> ServiceParts:
    settings = settings or IntakeEmailSettings()
    registry = CollectorRegistry()
    bus = Bus(settings, "intake-email", registry)
    bus.publisher(ContactReceived)
    database = Database(settings.database_url)
    blobs = open_blob_store(settings)  # PRIYOM_BLOB_S3_BUCKET or PRIYOM_BLOB_DIR, as every service
    limits = MailLimits(max_bytes=settings.smtp_max_bytes, time_budget_s=settings.parse_time_budget_s)
    memory = ByteBudget(settings.parse_memory_bytes)
    metrics = MailboxMetrics(registry)
    metrics.watch_parse_memory(memory, registry)
    # Mail that can never become a contact goes to the dead-letter queue whole, as the raw message.
    dead_letter = partial(bus.dead_letter, routing_key=binding(ContactReceived, CHANNEL),
                          content_type="message/rfc822")
    intake = MailIntake(publish=bus.publish, dead_letter=dead_letter, blobs=blobs, limits=limits,
                        list_mail=settings.list_mail, memory=memory, authenticator=SenderAuthenticator(
                            trusted_authserv_ids=settings.trusted_authserv_ids, check_senders=settings.check_senders,
                            dns=Dns(timeout_s=settings.sender_dns_timeout_s), relays=settings.sender_relays))
    relay = RelayConnections(settings)  # replies, notices, codes: one relay, its connections kept
    send = relay.send
    register_outbound(bus, settings, blobs, SentReplies(database), send)
    register_sign_in(bus, settings, send)  # the portal's sign-in codes, through the same relay
    register_staff_notices(bus, settings, send)  # tickets' mail to staff (escalations), the same way
    checkpoints = Checkpoints(database)
    serve_erasures(bus, "intake-email", partial(erasure_redaction.redact, database))
    # XOAUTH2 mailboxes refresh their access tokens at their providers' token endpoints through this client.
    token_endpoints = HttpClient(timeout_s=30.0)
    # Each mailbox is read by one replica at a time: the one holding its lease (priyom_kit.leases).
    leases = open_leases(settings.database_url)
    readers = ImapReaders(settings, intake, checkpoints, metrics, token_endpoints, leases)
    inbound = Inbound(SmtpEndpoint(settings, intake), readers, settings.smtp_enabled,
                      IngestedSweep(checkpoints, timedelta(days=settings.imap_ingested_retention_days)))
    retention = RetentionSweep("intake-email", lambda: database.sessions(), [RetentionRule(
        sent_replies, "sent_at", timedelta(days=settings.sent_replies_retention_days))])
    return ServiceParts(
        name="intake-email", title="Priyom intake-email", settings=settings, bus=bus, registry=registry,
        checks={"database": database.ping}, on_start=[database.open, token_endpoints.open],
        after_start=[inbound.start, retention.launch], before_stop=[inbound.stop],
        on_stop=[retention.stop, relay.close, database.close, token_endpoints.close, leases.close],
        leader_jobs=readers.jobs,
        description="The email channel: SMTP endpoint and IMAP mailboxes in, replies out through a relay",
    )


def create_app(settings: IntakeEmailSettings | None = None) -> FastAPI:
    return build_app(build(settings))
