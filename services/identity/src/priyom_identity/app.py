"""Wiring: the only place identity's parts meet."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from priyom_contracts import ContactIdentified, ContactReceived
from priyom_kit import Bus, ServiceParts, build_app
from priyom_kit.db import Database, Inbox

from . import handlers
from .api import clients_router
from .settings import IdentitySettings
from .tables import inbox as inbox_table


def build(settings: IdentitySettings | None = None) -> ServiceParts:
    settings = settings or IdentitySettings()
    registry = CollectorRegistry()
    bus = Bus(settings, "identity", registry)
    database = Database(settings.database_url)
    inbox = Inbox(inbox_table, consumer="identity.contacts")

    @bus.consumer("identity.contacts")
    async def on_contact_received(event: ContactReceived) -> None:
        await handlers.on_contact_received(event, sessions=database.sessions, inbox=inbox, bus=bus,
                                           region=settings.default_region)

    bus.publisher(ContactIdentified)
    return ServiceParts(
        name="identity", title="Priyom identity", settings=settings, bus=bus, registry=registry,
        routers=[clients_router(database, settings.default_region)],
        checks={"database": database.ping}, on_start=[database.open], on_stop=[database.close],
        description="Client cards: every contact matched to a client by messenger id, phone or email.",
    )


def create_app() -> FastAPI:
    return build_app(build())
