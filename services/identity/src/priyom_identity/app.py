"""Wiring: the only place identity's parts meet."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from priyom_contracts import (
    ClientChanged,
    ClientErased,
    ContactIdentified,
    ContactReceived,
    DeliveryReported,
    ErasureReported,
    PersonErased,
    TicketCreated,
)
from priyom_kit import Bus, HttpClient, ServiceParts, build_app
from priyom_kit.batches import Batches
from priyom_kit.db import Database, Inbox
from priyom_kit.periodic import Periodic
from priyom_kit.retention import RetentionSweep

from . import handlers
from .api.clients import clients_router
from .api.csv_import import csv_import_router
from .api.duplicate_suggestions import duplicate_suggestions_router
from .api.erasure_requests import erasure_router
from .api.identifier_claims import identifier_claims_router
from .api.merges import merges_router
from .api.persons import persons_router
from .card_changes import CardChanges
from .erasure_outbox import ErasureOutbox
from .lookup.cache import LookupCache
from .lookup.client_lookup import ClientLookup
from .lookup.reader import lookup_reader
from .lookup.responder import LookupResponder
from .retention import retention_rules
from .settings import IdentitySettings
from .tables import inbox as inbox_table


def build(settings: IdentitySettings | None = None, cache: LookupCache | None = None) -> ServiceParts:
    """Identity's parts; ``cache`` is the lookup cache to use (a test passes its own to watch it)."""
    settings = settings or IdentitySettings()
    registry = CollectorRegistry()
    bus = Bus(settings, "identity", registry)
    database = Database(settings.database_url)
    inbox = Inbox(inbox_table, consumer="identity.contacts")
    policy = settings.policy()
    cache = cache if cache is not None else LookupCache(settings.lookup_cache_size, settings.lookup_cache_ttl_s)
    changes = CardChanges(cache, bus.publish)
    reader = lookup_reader(settings.database_url, lambda: database.sessions())
    lookup = ClientLookup(reader, cache, policy)

    # Contacts arriving together are identified in one transaction (priyom_kit.batches), each alone on a clash.
    contacts: Batches[ContactReceived, ContactIdentified] = Batches(
        lambda events, within: handlers.on_contacts_received(
            events, within, sessions=database.sessions, inbox=inbox, bus=bus, policy=policy, changes=changes),
        lambda event: handlers.on_contact_received(event, sessions=database.sessions, inbox=inbox, bus=bus,
                                                   policy=policy, changes=changes),
        size=settings.batch_size)

    @bus.consumer("identity.contacts")
    async def on_contact_received(event: ContactReceived) -> None:
        handlers.log_identified(event, await contacts.submit(event))

    @bus.fanout_consumer("identity.client-changes")
    async def on_client_changed(event: ClientChanged) -> None:
        handlers.on_client_changed(event, changes=changes)

    # Request/reply on the default exchange: the reply goes to the request's reply_to. At-most-once by
    # design (no retries): a late answer is useless to a ringing phone, the caller times out. Outside
    # faststream for speed (see lookup/responder.py), so scripts/export_docs.py describes it in the AsyncAPI
    # document by hand.
    async def answer(body: bytes) -> bytes:
        return await handlers.on_lookup_request(body, lookup=lookup)

    responder = LookupResponder(settings.amqp_url.get_secret_value(), bus.topology.identity_lookup_queue, answer,
                                registry)

    reports: Batches[DeliveryReported, None] = Batches(
        lambda events, within: handlers.on_deliveries_reported(events, within, sessions=database.sessions,
                                                               policy=policy, changes=changes),
        lambda event: handlers.on_delivery_reported(event, sessions=database.sessions, policy=policy,
                                                    changes=changes),
        size=settings.batch_size)

    @bus.consumer("identity.deliveries")
    async def on_delivery_reported(event: DeliveryReported) -> None:
        await reports.submit(event)

    tickets_created: Batches[TicketCreated, None] = Batches(
        lambda events, within: handlers.on_tickets_created(events, within, sessions=database.sessions),
        lambda event: handlers.on_ticket_created(event, sessions=database.sessions), size=settings.batch_size)

    @bus.consumer("identity.tickets")
    async def on_ticket_created(event: TicketCreated) -> None:
        await tickets_created.submit(event)

    erasures = ErasureOutbox(lambda: database.sessions(), bus.publish)
    tickets = HttpClient(base_url=settings.tickets_url or "", timeout_s=30.0,
                         token=settings.tickets_token or settings.service_tokens.get("identity"))
    router = HttpClient(base_url=settings.router_url or "", timeout_s=30.0,
                        token=settings.router_token or settings.service_tokens.get("identity"))
    exports = {"tickets": tickets if settings.tickets_url else None, "router": router if settings.router_url else None}
    resend = Periodic("erasure-resend", erasures.resend, every_s=settings.erasure_resend_s)
    retention = RetentionSweep("identity", lambda: database.sessions(), retention_rules(settings))

    @bus.consumer("identity.erasure-reports")
    async def on_erasure_reported(event: ErasureReported) -> None:
        await handlers.on_erasure_reported(event, sessions=database.sessions)

    bus.publisher(ContactIdentified)
    bus.publisher(ClientChanged)
    bus.publisher(PersonErased)
    bus.publisher(ClientErased)
    return ServiceParts(
        name="identity", title="Priyom identity", settings=settings, bus=bus, registry=registry,
        routers=[clients_router(database, policy, changes), persons_router(database, policy, changes),
                 identifier_claims_router(database, changes),
                 duplicate_suggestions_router(database), merges_router(database, changes),
                 erasure_router(database, changes, erasures, exports),
                 csv_import_router(database, policy, changes, settings.import_max_bytes)],
        checks={"database": database.ping},
        # The responder last: it answers from the database, so the database and the reader come first.
        on_start=[database.open, reader.open, responder.start, tickets.open, router.open],
        after_start=[resend.launch, retention.launch],
        on_stop=[resend.stop, retention.stop, tickets.close, router.close, responder.stop, reader.close, database.close],
        description="Client cards: every contact matched to a client by messenger id, phone or email.",
    )


def create_app() -> FastAPI:
    return build_app(build())
