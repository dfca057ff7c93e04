"""Wiring: the only place the tickets service's parts meet."""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry

from priyom_contracts import (
    CallEvent,
    ContactAssigned,
    ContactRouted,
    DeliveryReported,
    OutboundReply,
    TicketCreated,
    TicketStatusChanged,
    TicketTypeCorrected,
)
from priyom_kit import Bus, HttpClient, ServiceParts, build_app
from priyom_kit.auth import Authenticator
from priyom_kit.blobs import open_blob_store
from priyom_kit.db import Database, Inbox
from priyom_kit.periodic import Periodic

from . import handlers, popups, staff, tables
from .access import policy_from_mapping as access_policy_from_mapping
from .agent_card import IdentityCards
from .agent_socket import AgentSockets
from .api import PUBLIC_PREFIX, ROUTERS, ApiParts, UploadLimits
from .cors import PublicPathCORS
from .lifecycle import IllegalTransition
from .notifications import outbound_channels
from .outbox import Relay
from .policy import Policy
from .scheduler import tick
from .settings import TicketsSettings
from .sla import load_policy

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
    policy = Policy(zone=settings.zone, outbound_channels=outbound_channels(bus.topology),
                    sla=load_policy(settings.sla_file, settings.zone), team_heads=settings.team_heads)
    relay = Relay(lambda: database.sessions, bus.publish)

    async def scheduler_round() -> None:
        await tick(database.sessions, relay, silence=settings.silence, policy=policy)

    scheduler = Periodic("tickets-scheduler", scheduler_round, every_s=settings.scheduler_interval_s)

    @bus.consumer("tickets.contacts")
    async def on_contact_routed(event: ContactRouted) -> None:
        await handlers.on_contact_routed(event, sessions=database.sessions, inbox=inbox, relay=relay,
                                         policy=policy)

    @bus.consumer("tickets.deliveries")
    async def on_delivery_reported(event: DeliveryReported) -> None:
        await handlers.on_delivery_reported(event, sessions=database.sessions, inbox=deliveries)

    @bus.consumer("tickets.assignments")
    async def on_contact_assigned(event: ContactAssigned) -> None:
        await handlers.on_contact_assigned(event, sessions=database.sessions, inbox=assignments)

    consoles = AgentSockets(registry)
    access = access_policy_from_mapping(settings.team_access)
    identity = HttpClient(base_url=settings.identity_url or "", timeout_s=settings.identity_timeout_s,
                          token=settings.identity_token or settings.admin_token, follow_redirects=True)
    cards = IdentityCards(identity if settings.identity_url else None)

    @bus.fanout_consumer("tickets.calls")
    async def on_call_event(event: CallEvent) -> None:
        await popups.on_call_event(event, consoles=consoles, sessions=lambda: database.sessions)

    for published in (TicketCreated, TicketStatusChanged, TicketTypeCorrected, OutboundReply):
        bus.publisher(published)
    limits = UploadLimits(settings.blob_dir, settings.max_attachment_bytes, settings.max_attachments)

    async def start_scheduler() -> None:
        scheduler.start()

    return ServiceParts(
        name="tickets",
        title="Priyom tickets",
        description=DESCRIPTION,
        settings=settings,
        bus=bus,
        registry=registry,
        routers=ROUTERS,
        checks={"database": database.ping},
        on_start=[database.open, identity.open],
        # The first round also sends what a crash left in the outbox, so it needs the bus.
        after_start=[start_scheduler],
        on_stop=[scheduler.stop, database.close, blobs.close, identity.close],
        authenticator=authenticator or staff.authenticator(lambda: database.sessions, settings.admin_token),
        state={"tickets": ApiParts(database, blobs, relay, policy, access, limits, cards, consoles)},
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
