"""Wiring: the only place the tickets service's parts meet."""

from __future__ import annotations

from datetime import timedelta

from aio_pika.abc import AbstractIncomingMessage
from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry

from priyom_contracts import (
    AgentTyping,
    CallEvent,
    ClientChanged,
    ContactAssigned,
    ContactRouted,
    DeliveryReported,
    Erasure,
    OutboundReply,
    TicketCreated,
    TicketStatusChanged,
    TicketTypeCorrected,
    VisitorTyping,
    utcnow,
)
from priyom_kit import Bus, HttpClient, ServiceParts, build_app
from priyom_kit.auth import Authenticator
from priyom_kit.batches import Batches
from priyom_kit.blobs import open_blob_store
from priyom_kit.cors import PublicPathCORS
from priyom_kit.db import Database, Inbox
from priyom_kit.erasure import serve_erasures
from priyom_kit.outbox import Relay
from priyom_kit.periodic import Periodic
from priyom_kit.retention import RetentionSweep
from priyom_kit.signals import publish_signal

from . import handlers, popups, staff, tables
from .access import policy_from_mapping as access_policy_from_mapping
from .agent_card import IdentityCards
from .agent_socket import AgentSockets
from .api import PUBLIC_PREFIX, ROUTERS, ApiParts, UploadLimits
from .api.public_gate import PublicGate
from .arrivals import Registered
from .call_board import CallBoard
from .chat_typing import ChatTyping
from .dead_letters import DeadLetterDesk
from .lifecycle import IllegalTransition
from .live_feed import LiveFeed
from .notifications import outbound_channels
from .policy import Policy
from .retention import retention_rules
from .scheduler import tick
from .settings import TicketsSettings
from .sla import load_policy
from .sla_metrics import SlaMetrics

DESCRIPTION = "Numbered tickets made from routed contacts: agents read them, customers see the number."


def build(
    settings: TicketsSettings | None = None, *, authenticator: Authenticator | None = None
) -> ServiceParts:
    """The service's parts. ``authenticator`` replaces the admin-token one (agent accounts come later)."""
    settings = settings or TicketsSettings()
    registry = CollectorRegistry()
    bus = Bus(settings, "tickets", registry)
    database = Database(settings.database_url)
    blobs = open_blob_store(settings)
    inbox = Inbox(tables.inbox, handlers.CONSUMER)
    deliveries = Inbox(tables.inbox, handlers.DELIVERIES)
    assignments = Inbox(tables.inbox, handlers.ASSIGNMENTS)
    client_changes = Inbox(tables.inbox, handlers.CLIENT_CHANGES)
    policy = Policy(zone=settings.zone, outbound_channels=outbound_channels(bus.topology),
                    sla=load_policy(settings.sla_file, settings.zone), team_heads=settings.team_heads,
                    reply_fallback=tuple(settings.reply_fallback),
                    trust_mail_without_verdict=settings.trust_mail_without_verdict)
    relay = Relay(lambda: database.sessions, bus.publish, tables.ticket_outbox)

    sla_metrics = SlaMetrics(registry)

    async def scheduler_round() -> None:
        await tick(database.sessions, relay, silence=settings.silence, policy=policy, metrics=sla_metrics)

    scheduler = Periodic("tickets-scheduler", scheduler_round, every_s=settings.scheduler_interval_s)

    # Contacts arriving together are registered in one transaction (priyom_kit.batches), each alone on a race.
    contacts: Batches[ContactRouted, tuple[Registered, bool]] = Batches(
        lambda events, within: handlers.on_contacts_routed(
            events, within, sessions=database.sessions, inbox=inbox, relay=relay, policy=policy),
        lambda event: handlers.on_contact_routed(event, sessions=database.sessions, inbox=inbox, relay=relay,
                                                 policy=policy),
        size=settings.batch_size)

    @bus.consumer("tickets.contacts")
    async def on_contact_routed(event: ContactRouted) -> None:
        handlers.log_registered(event, await contacts.submit(event))

    reports: Batches[DeliveryReported, bool] = Batches(
        lambda events, within: handlers.on_deliveries_reported(events, within, sessions=database.sessions,
                                                               inbox=deliveries),
        lambda event: handlers.on_delivery_reported(event, sessions=database.sessions, inbox=deliveries),
        size=settings.batch_size)

    @bus.consumer("tickets.deliveries")
    async def on_delivery_reported(event: DeliveryReported) -> None:
        await reports.submit(event)

    @bus.consumer("tickets.assignments")
    async def on_contact_assigned(event: ContactAssigned) -> None:
        await handlers.on_contact_assigned(event, sessions=database.sessions, inbox=assignments)

    async def redact(erasure: Erasure) -> dict[str, int]:
        return await handlers.on_erasure(erasure, sessions=database.sessions, blobs=blobs)

    serve_erasures(bus, "tickets", redact)

    consoles = AgentSockets(registry)
    calls = CallBoard(utcnow)
    live = LiveFeed(utcnow, registry, remind_before=timedelta(seconds=settings.activity_remind_before_s), calls=calls)
    live_round = Periodic("live-feed", lambda: live.round(database.sessions), every_s=settings.live_interval_s)
    access = access_policy_from_mapping(settings.team_access)
    identity = HttpClient(base_url=settings.identity_url or "", timeout_s=settings.identity_timeout_s,
                          token=settings.identity_token or settings.service_tokens.get("tickets"), follow_redirects=True)
    cards = IdentityCards(identity if settings.identity_url else None)
    # Click-to-call passes on the agent's own token (each request's header), so telephony checks the extension.
    telephony = HttpClient(base_url=settings.telephony_url or "", timeout_s=settings.telephony_timeout_s)
    # The knowledge-base panel passes on the agent's own token too, so the portal shows staff what staff may see.
    portal = HttpClient(base_url=settings.portal_url or "", timeout_s=settings.portal_timeout_s)

    @bus.consumer("tickets.client-changes")
    async def on_client_changed(event: ClientChanged) -> None:
        await handlers.on_client_changed(event, sessions=database.sessions, inbox=client_changes, cards=cards)

    @bus.fanout_consumer("tickets.calls")
    async def on_call_event(event: CallEvent) -> None:
        calls.on_event(event)
        await popups.on_call_event(event, consoles=consoles, reads=database.reads)

    typing = ChatTyping(lambda: database.sessions, lambda signal: publish_signal(bus, signal), policy)

    @bus.fanout_consumer("tickets.chat-typing")
    async def on_visitor_typing(signal: VisitorTyping) -> None:
        await typing.to_consoles(signal)

    # The deployment's dead letters are kept here, where the console and the roles are (dead_letters.py).
    desk = DeadLetterDesk(lambda: database.sessions, topology=bus.topology, redeliver=bus.redeliver,
                          publish=bus.publish, registry=registry)
    dead_letter_gauge = Periodic("dead-letter-gauge", desk.refresh_gauge, every_s=settings.scheduler_interval_s)

    @bus.dead_letter_consumer()
    async def on_dead_letter(body: bytes, message: AbstractIncomingMessage) -> None:
        """Every dead letter, as it failed (the reason in x-error): kept for a person, who replays or discards it."""
        await desk.on_dead_letter(body, message)

    for published in (TicketCreated, TicketStatusChanged, TicketTypeCorrected, OutboundReply, AgentTyping):
        bus.publisher(published)
    limits = UploadLimits(settings.blob_dir, settings.max_attachment_bytes, settings.max_attachments)

    retention = RetentionSweep("tickets", lambda: database.sessions(), retention_rules(settings))

    async def start_scheduler() -> None:
        scheduler.start()
        dead_letter_gauge.start()
        live_round.start()
        await retention.launch()

    return ServiceParts(
        name="tickets",
        title="Priyom tickets",
        description=DESCRIPTION,
        settings=settings,
        bus=bus,
        registry=registry,
        routers=ROUTERS,
        checks={"database": database.ping},
        on_start=[database.open, identity.open, telephony.open, portal.open],
        # The first round also sends what a crash left in the outbox, so it needs the bus.
        after_start=[start_scheduler],
        on_stop=[scheduler.stop, dead_letter_gauge.stop, live_round.stop, retention.stop, database.close, blobs.close, identity.close,
                 telephony.close, portal.close],
        authenticator=authenticator or staff.authenticator(lambda: database.sessions, settings.admin_token,
                                                                   settings.service_tokens),
        state={"tickets": ApiParts(database, blobs, relay, policy, access, limits, cards, consoles, live, typing,
                                   telephony if settings.telephony_url else None,
                                   portal if settings.portal_url else None),
               "dead_letters": desk,
               "public_gate": PublicGate.build(settings.public_link_secret, settings.public_link_rate),
               "staff_token_lifetime": timedelta(days=settings.staff_token_days)},
    )


def create_app(parts: ServiceParts | None = None) -> FastAPI:
    parts = parts or build()
    app = build_app(parts)
    settings: TicketsSettings = parts.settings  # type: ignore[assignment]
    app.add_middleware(PublicPathCORS, prefix=PUBLIC_PREFIX, origins=settings.cors_origins)
    app.add_exception_handler(IllegalTransition, _conflict)
    return app


async def _conflict(_: Request, exc: Exception) -> JSONResponse:
    """A move the ticket's lifecycle does not allow now: 409, with the lifecycle's reason."""
    return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_409_CONFLICT)
