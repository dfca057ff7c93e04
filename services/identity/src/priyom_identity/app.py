"""Wiring: the only place identity's parts meet."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from faststream.middlewares import AckPolicy
from faststream.rabbit import RabbitQueue, RabbitResponse, RabbitRouter
from prometheus_client import CollectorRegistry

from priyom_contracts import ContactIdentified, ContactReceived, TicketCreated
from priyom_kit import Bus, ServiceParts, build_app
from priyom_kit.db import Database, Inbox

from . import handlers
from .api import clients_router
from .api_stewardship import stewardship_router
from .lookup import ClientLookup
from .lookup_cache import LookupCache
from .settings import IdentitySettings
from .tables import inbox as inbox_table

#: A lookup nobody answered within this long is for a call that has stopped ringing: the broker drops it.
LOOKUP_REQUEST_TTL_MS = 10_000


def build(settings: IdentitySettings | None = None, cache: LookupCache | None = None) -> ServiceParts:
    """Identity's parts; ``cache`` is the lookup cache to use (a test passes its own to watch it)."""
    settings = settings or IdentitySettings()
    registry = CollectorRegistry()
    bus = Bus(settings, "identity", registry)
    database = Database(settings.database_url)
    inbox = Inbox(inbox_table, consumer="identity.contacts")
    policy = settings.policy()
    cache = cache if cache is not None else LookupCache(settings.lookup_cache_size, settings.lookup_cache_ttl_s)
    lookup = ClientLookup(lambda: database.sessions(), cache, policy)

    @bus.consumer("identity.contacts")
    async def on_contact_received(event: ContactReceived) -> None:
        await handlers.on_contact_received(event, sessions=database.sessions, inbox=inbox, bus=bus,
                                           policy=policy, cache=cache)

    # Request/reply on the default exchange: the reply goes to the request's reply_to. At-most-once by
    # design (ACK policy, no retries): a late answer is useless to a ringing phone, the caller times out.
    lookup_queue = RabbitQueue(bus.topology.identity_lookup_queue, durable=True,
                               arguments={"x-message-ttl": LOOKUP_REQUEST_TTL_MS})

    # Its own router: faststream keeps a broker's subscribers in a WeakSet, whose order (and so the order of
    # the generated AsyncAPI document) would change from run to run with two subscribers in it.
    rpc = RabbitRouter()

    @rpc.subscriber(lookup_queue, ack_policy=AckPolicy.ACK, title=lookup_queue.name,
                    description="ClientLookupRequest in; ClientLookupReply to the request's reply_to")
    async def on_lookup_request(body: Any) -> RabbitResponse:
        # Not mandatory: RabbitMQ returns direct reply-to publishes as unroutable even when it delivers
        # them (verified on 3.10), and a requester that gave up is no error of ours either.
        return RabbitResponse(await handlers.on_lookup_request(body, lookup=lookup), mandatory=False)

    bus.broker.include_router(rpc)

    @bus.consumer("identity.tickets")
    async def on_ticket_created(event: TicketCreated) -> None:
        await handlers.on_ticket_created(event, sessions=database.sessions)

    bus.publisher(ContactIdentified)
    return ServiceParts(
        name="identity", title="Priyom identity", settings=settings, bus=bus, registry=registry,
        routers=[clients_router(database, policy, cache.invalidate),
                 stewardship_router(database, policy, cache.invalidate, settings.import_max_bytes)],
        checks={"database": database.ping}, on_start=[database.open], on_stop=[database.close],
        description="Client cards: every contact matched to a client by messenger id, phone or email.",
    )


def create_app() -> FastAPI:
    return build_app(build())
