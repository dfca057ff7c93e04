"""Wiring: the only place the router's parts meet."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from priyom_contracts import (
    ContactAssigned,
    ContactIdentified,
    ContactRouted,
    TicketCreated,
    TicketStatusChanged,
    TicketTypeCorrected,
)
from priyom_kit import Bus, HttpClient, ServiceParts, build_app
from priyom_kit.db import Database
from priyom_kit.service import Hook

from . import handlers
from .active_rules import ActiveRules
from .api import router_api
from .client_attributes import ClientCards
from .contact_type import SecondOpinion
from .queue_sweep import QueueSweeper
from .rules import default_rule_text
from .settings import RouterSettings


def build(settings: RouterSettings | None = None) -> ServiceParts:
    settings = settings or RouterSettings()
    registry = CollectorRegistry()
    bus = Bus(settings, "router", registry)
    database = Database(settings.database_url)
    fallback = settings.rules_file.read_text(encoding="utf-8") if settings.rules_file else default_rule_text()
    rules = ActiveRules(fallback)
    second_opinion: SecondOpinion | None = None
    if settings.model_file is not None:
        from .learned import ModelFile

        second_opinion = ModelFile(settings.model_file)

    sweeper = QueueSweeper(lambda: database.sessions, rules, bus.publish, interval_s=settings.queue_sweep_seconds)
    on_start: list[Hook] = [database.open, sweeper.start]
    on_stop: list[Hook] = [sweeper.stop, database.close]
    cards: ClientCards | None = None
    if settings.identity_url:
        identity = HttpClient(base_url=settings.identity_url, timeout_s=5.0,
                              token=settings.identity_token or settings.admin_token)
        cards = ClientCards(identity)
        on_start.append(identity.open)
        on_stop.append(identity.close)

    @bus.consumer("router.contacts")
    async def on_contact_identified(event: ContactIdentified) -> None:
        await handlers.on_contact_identified(event, sessions=database.sessions, rules=rules,
                                             second_opinion=second_opinion, publish=bus.publish)

    @bus.consumer("router.tickets", TicketCreated)
    async def on_ticket_created(event: TicketCreated) -> None:
        """The new ticket weighs on its assignee."""
        await handlers.on_ticket_created(event, sessions=database.sessions)

    @bus.consumer("router.tickets", TicketStatusChanged)
    async def on_ticket_status_changed(event: TicketStatusChanged) -> None:
        """A finished ticket frees its assignee for the next waiting contact."""
        await handlers.on_ticket_status_changed(event, sessions=database.sessions, rules=rules,
                                                publish=bus.publish)

    @bus.consumer("router.tickets", TicketTypeCorrected)
    async def on_ticket_type_corrected(event: TicketTypeCorrected) -> None:
        """An agent's type correction is kept for training."""
        await handlers.on_ticket_type_corrected(event, sessions=database.sessions)

    bus.publisher(ContactRouted)
    bus.publisher(ContactAssigned)
    return ServiceParts(
        name="router", title="Priyom router", settings=settings, bus=bus, registry=registry,
        routers=[router_api(database, rules, second_opinion, bus.publish, cards)],
        checks={"database": database.ping}, on_start=on_start, on_stop=on_stop,
        description="Classifies every identified contact by a supervisor's rule book and assigns it.",
    )


def create_app() -> FastAPI:
    return build_app(build())
