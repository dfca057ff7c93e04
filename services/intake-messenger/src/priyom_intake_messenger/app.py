"""Wiring: the only place intake-messenger's parts meet.

Each channel is an adapter (``telegram/``, ``jsonhook/``, ``chat/``) on the kit's :class:`ChannelEdge`; a
channel is on when its secret (the chat: its site keys) is configured. One outbound queue carries the replies of every channel served here, and one
journal in the service's database (:mod:`.store`) remembers which were delivered, across restarts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry

from priyom_contracts import AgentTyping, ContactReceived, Erasure, OutboundReply, VisitorTyping
from priyom_kit import Bus, HttpClient, ServiceParts, build_app
from priyom_kit.adapters import ChannelEdge, SqlDeliveryJournal, serve_outbound
from priyom_kit.blobs import open_blob_store
from priyom_kit.db import Database
from priyom_kit.erasure import serve_erasures
from priyom_kit.leases import LeaderJob, open_leases
from priyom_kit.rate_windows import open_storage
from priyom_kit.retention import RetentionSweep
from priyom_kit.service import Hook

from .chat.adapter import ChatAdapter
from .chat.files import chat_files_router
from .chat.guards import ChatLimits, SiteKeys
from .chat.history import ChatHistory
from .chat.live import VisitorSockets
from .chat.pages import chat_pages_router
from .chat.presence import Presence
from .chat.socket import chat_socket_router
from .chat.typing_signals import TypingSignals
from .jsonhook.adapter import JsonWebhookAdapter
from .jsonhook.api import json_webhook_router
from .retention import retention_rules
from .settings import IntakeMessengerSettings
from .store import deliveries
from .telegram.adapter import TelegramAdapter, make_bot
from .telegram.album_parts import AlbumParts
from .telegram.receiver import UpdateReceiver
from .telegram.sign_in import register_sign_in
from .telegram.webhook import webhook_router


def build(settings: IntakeMessengerSettings | None = None) -> ServiceParts:
    settings = settings or IntakeMessengerSettings()
    registry = CollectorRegistry()
    bus = Bus(settings, "intake-messenger", registry)
    bus.publisher(ContactReceived)
    blobs = open_blob_store(settings)  # PRIYOM_BLOB_S3_BUCKET or PRIYOM_BLOB_DIR, as every service
    database = Database(settings.database_url)
    journal = SqlDeliveryJournal(lambda: database.sessions, deliveries)
    edges: list[ChannelEdge] = []
    routers: list[APIRouter] = []
    on_start: list[Hook] = []
    after_start: list[Hook] = []
    on_stop: list[Hook] = []
    checks: dict[str, Callable[[], Awaitable[bool]]] = {}
    leases = open_leases(settings.database_url)  # the jobs one replica runs at a time (priyom_kit.leases)
    leader_jobs: list[LeaderJob] = []

    def edge_for(adapter: TelegramAdapter | JsonWebhookAdapter | ChatAdapter) -> ChannelEdge:
        edge = ChannelEdge(adapter, bus, blobs, registry, max_file_bytes=settings.max_file_bytes,
                           journal=journal)
        edges.append(edge)
        after_start.append(edge.after_start)
        return edge

    if settings.telegram_bot_token is not None:
        bot = make_bot(settings.telegram_bot_token.get_secret_value(), settings.telegram_api_base)
        webhook = settings.telegram_mode == "webhook"
        secret = settings.telegram_webhook_secret.get_secret_value() if settings.telegram_webhook_secret else None
        telegram = edge_for(TelegramAdapter(bot, blobs, webhook_url=settings.telegram_webhook_url if webhook else None,
                                            webhook_secret=secret if webhook else None))
        receiver = UpdateReceiver(bot, telegram.accept, telegram.dead_letter,
                                  album_wait_s=settings.telegram_album_wait_ms / 1000,
                                  album_parts=AlbumParts(lambda: database.sessions), registry=registry,
                                  poll_timeout_s=settings.telegram_poll_timeout_s)
        if webhook:
            assert secret is not None  # checked by the settings
            routers.append(webhook_router(receiver, secret, settings.max_request_bytes))
        else:
            # One poller per bot across replicas (Telegram answers a second getUpdates with 409 Conflict).
            polling = LeaderJob(f"intake-messenger/telegram/{bot.id}", leases, partial(receiver.poll, bus.ping))
            leader_jobs.append(polling)
            after_start.append(polling.launch)
            checks["telegram_polling"] = polling.healthy_when(receiver.polling_healthy)
            on_stop.append(polling.stop)
        on_stop.append(bot.session.close)
        register_sign_in(bus, bot)  # the portal's sign-in codes, from the same bot

    if settings.webhook_secret is not None:
        peer = HttpClient(timeout_s=15.0)
        hook = JsonWebhookAdapter(settings.webhook_secret.get_secret_value().encode(),
                                  settings.webhook_outbound_url, blobs, peer)
        routers.append(json_webhook_router(edge_for(hook), hook, settings.max_request_bytes))
        on_start.append(peer.open)
        on_stop.append(peer.close)

    history = ChatHistory(lambda: database.sessions)
    sites = SiteKeys(settings.chat_sites)
    if sites:
        bus.publisher(VisitorTyping)
        chat = ChatAdapter(history, VisitorSockets(registry))
        limits = ChatLimits(open_storage(settings.chat_rate_storage), settings.chat_rate_per_visitor,
                            settings.chat_rate_per_ip)
        roster = None
        if settings.chat_router_url:
            roster = HttpClient(base_url=settings.chat_router_url, timeout_s=5.0,
                                token=settings.chat_router_token or settings.service_tokens.get("intake-messenger"))
            on_start.append(roster.open)
            on_stop.append(roster.close)
        presence = Presence(settings.chat_agents_online, roster, chat.sockets, every_s=settings.chat_presence_every_s)
        after_start.append(presence.launch)
        on_stop.append(presence.stop)
        typing = TypingSignals(bus, chat.sockets)
        routers.append(chat_socket_router(edge_for(chat), chat, settings, sites, limits, presence, typing))
        routers.append(chat_pages_router(settings.chat_demo_site))
        routers.append(chat_files_router(history, blobs))

        @bus.fanout_consumer("intake-messenger.chat-replies")
        async def show_chat_reply(reply: OutboundReply) -> None:
            await chat.show(reply)

        @bus.fanout_consumer("intake-messenger.chat-typing")
        async def show_agent_typing(signal: AgentTyping) -> None:
            await typing.show(signal)

    async def redact(erasure: Erasure) -> dict[str, int]:
        return {"intake-messenger.delivery_journal": await journal.redact_tickets(erasure.ticket_numbers),
                "intake-messenger.chat_messages": await history.erase_tickets(erasure.ticket_numbers)}

    # Erasures are served with or without a channel: the journal may hold records from when one was set.
    serve_erasures(bus, "intake-messenger", redact)
    # The journal is read before any reply is sent, so the database opens before the bus consumes.
    on_start.append(database.open)
    checks["database"] = database.ping
    if edges:  # with no channel configured, replies wait in the queue rather than being dead-lettered
        serve_outbound(bus, "intake-messenger.outbound", edges)
    retention = RetentionSweep("intake-messenger", lambda: database.sessions(), retention_rules(settings))
    after_start.append(retention.launch)
    on_stop.append(retention.stop)
    on_stop.append(database.close)
    on_stop.append(leases.close)
    return ServiceParts(name="intake-messenger", title="Priyom intake-messenger", settings=settings, bus=bus,
                        registry=registry, routers=routers, checks=checks, on_start=on_start,
                        after_start=after_start, on_stop=on_stop, leader_jobs=leader_jobs,
                        description="The messenger channels: Telegram (polling or webhook), a JSON webhook and "
                                    "the website chat")


def create_app() -> FastAPI:
    return build_app(build())
