"""Wiring: the only place the router's parts meet."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from priyom_contracts import (
    ContactAssigned,
    ContactIdentified,
    ContactRouted,
    Erasure,
    TicketAssigned,
    TicketCreated,
    TicketStatusChanged,
    TicketTypeCorrected,
)
from priyom_kit import Bus, HttpClient, ServiceParts, build_app
from priyom_kit.batches import Batches
from priyom_kit.db import Database
from priyom_kit.erasure import serve_erasures
from priyom_kit.outbox import Relay
from priyom_kit.periodic import Periodic
from priyom_kit.service import Hook

from . import erasure_redaction, handlers
from .active_rules import ActiveRules
from .api import router_api
from .client_attributes import ClientCards
from .contact_type import SecondOpinion
from .learned import built_in_model
from .model_file import ModelFile
from .queue_sweep import QueueSweeper
from .rules import default_rule_text
from .settings import RouterSettings
from .subject_export import subject_export_router
from .tables import router_outbox


def build(settings: RouterSettings | None = None) -> ServiceParts:
    settings = settings or RouterSettings()
    registry = CollectorRegistry()
    bus = Bus(settings, "router", registry)
    database = Database(settings.database_url)
    fallback = settings.rules_file.read_text(encoding="utf-8") if settings.rules_file else default_rule_text()
    rules = ActiveRules(fallback)
    second_opinion: SecondOpinion | None = None
    if settings.classifier:
        second_opinion = ModelFile(settings.model_file) if settings.model_file else built_in_model()

    relay = Relay(lambda: database.sessions, bus.publish, router_outbox, keep_sent=False)
    # What a failed send or a crash left staged goes out at start and then every round, never given up.
    resend = Periodic("router-outbox", relay.flush, every_s=settings.outbox_retry_s)
    sweeper = QueueSweeper(lambda: database.sessions, rules, relay, interval_s=settings.queue_sweep_seconds)

    async def start_sending() -> None:
        resend.start()

    on_start: list[Hook] = [database.open, sweeper.start]
    on_stop: list[Hook] = [resend.stop, sweeper.stop, database.close]
    cards: ClientCards | None = None
    if settings.identity_url:
        identity = HttpClient(base_url=settings.identity_url, timeout_s=5.0,
                              token=settings.identity_token or settings.service_tokens.get("router"))
        cards = ClientCards(identity)
        on_start.append(identity.open)
        on_stop.append(identity.close)

    # Contacts arriving together are routed in one transaction (priyom_kit.batches), each alone on a failure.
    contacts: Batches[ContactIdentified, ContactRouted] = Batches(
        lambda events, within: handlers.on_contacts_identified(
            events, within, sessions=database.sessions, rules=rules, second_opinion=second_opinion, relay=relay),
        lambda event: handlers.on_contact_identified(event, sessions=database.sessions, rules=rules,
                                                     second_opinion=second_opinion, relay=relay),
        size=settings.batch_size)

    @bus.consumer("router.contacts")
    async def on_contact_identified(event: ContactIdentified) -> None:
        handlers.log_routed(await contacts.submit(event))

    tickets_created: Batches[TicketCreated, None] = Batches(
        lambda events, within: handlers.on_tickets_created(events, within, sessions=database.sessions),
        lambda event: handlers.on_ticket_created(event, sessions=database.sessions), size=settings.batch_size)

    @bus.consumer("router.tickets", TicketCreated)
    async def on_ticket_created(event: TicketCreated) -> None:
        """The new ticket weighs on its assignee."""
        await tickets_created.submit(event)

    @bus.consumer("router.tickets", TicketStatusChanged)
    async def on_ticket_status_changed(event: TicketStatusChanged) -> None:
        """A finished ticket frees its assignee for the next waiting contact."""
        await handlers.on_ticket_status_changed(event, sessions=database.sessions, rules=rules, relay=relay)

    @bus.consumer("router.tickets", TicketAssigned)
    async def on_ticket_assigned(event: TicketAssigned) -> None:
        """An agent moved a ticket: its weight moves with it."""
        await handlers.on_ticket_assigned(event, sessions=database.sessions, rules=rules, relay=relay)

    @bus.consumer("router.tickets", TicketTypeCorrected)
    async def on_ticket_type_corrected(event: TicketTypeCorrected) -> None:
        """An agent's type correction is kept for training."""
        await handlers.on_ticket_type_corrected(event, sessions=database.sessions)

    async def redact(erasure: Erasure) -> dict[str, int]:
        async with database.sessions() as session, session.begin():
            return await erasure_redaction.redact(session, erasure)

    serve_erasures(bus, "router", redact)
    bus.publisher(ContactRouted)
    bus.publisher(ContactAssigned)
    return ServiceParts(
        name="router", title="Priyom router", settings=settings, bus=bus, registry=registry,
        routers=[router_api(database, rules, second_opinion, relay, cards), subject_export_router(database)],
        checks={"database": database.ping}, on_start=on_start, after_start=[start_sending], on_stop=on_stop,
        description="Classifies every identified contact by a supervisor's rule book and assigns it.",
    )


def create_app() -> FastAPI:
    return build_app(build())
