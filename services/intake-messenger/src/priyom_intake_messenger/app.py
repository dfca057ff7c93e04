"""Wiring: the only place intake-messenger's parts meet.

Each channel is an adapter (``telegram/``, ``jsonhook/``) on the kit's :class:`ChannelEdge`; a channel is on
when its secret is configured. One outbound queue carries the replies of every channel served here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry

from priyom_contracts import ContactReceived
from priyom_kit import Bus, ServiceParts, build_app, get_logger
from priyom_kit.adapters import ChannelEdge, serve_outbound
from priyom_kit.blobs import FileBlobStore

from .jsonhook.adapter import JsonWebhookAdapter
from .jsonhook.api import json_webhook_router
from .settings import IntakeMessengerSettings
from .telegram.adapter import TelegramAdapter, make_bot
from .telegram.receiver import ALLOWED_UPDATES, UpdateReceiver
from .telegram.webhook import webhook_router

log = get_logger("priyom.intake-messenger")
Hook = Callable[[], Awaitable[None]]


def build(settings: IntakeMessengerSettings | None = None) -> ServiceParts:
    settings = settings or IntakeMessengerSettings()
    registry = CollectorRegistry()
    bus = Bus(settings, "intake-messenger", registry)
    bus.publisher(ContactReceived)
    blobs = FileBlobStore(settings.blob_dir)
    edges: list[ChannelEdge] = []
    routers: list[APIRouter] = []
    on_start: list[Hook] = []
    on_stop: list[Hook] = []
    checks: dict[str, Callable[[], Awaitable[bool]]] = {}

    def edge_for(adapter: TelegramAdapter | JsonWebhookAdapter) -> ChannelEdge:
        edge = ChannelEdge(adapter, bus, blobs, registry, max_file_bytes=settings.max_file_bytes)
        edges.append(edge)
        return edge

    if settings.telegram_bot_token is not None:
        bot = make_bot(settings.telegram_bot_token.get_secret_value(), settings.telegram_api_base)
        telegram = edge_for(TelegramAdapter(bot, blobs))
        receiver = UpdateReceiver(bot, telegram.accept, telegram.dead_letter,
                                  album_wait_s=settings.telegram_album_wait_ms / 1000, registry=registry,
                                  poll_timeout_s=settings.telegram_poll_timeout_s)
        if settings.telegram_mode == "webhook":
            assert settings.telegram_webhook_secret is not None  # checked by the settings
            secret = settings.telegram_webhook_secret.get_secret_value()
            routers.append(webhook_router(receiver, secret, settings.max_request_bytes))

            async def register_webhook() -> None:
                if settings.telegram_webhook_url:
                    # Pending updates are kept: Telegram re-sends the backlog to the new webhook.
                    await bot.set_webhook(settings.telegram_webhook_url, secret_token=secret,
                                          allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False)
                info = await bot.get_webhook_info()
                log.info("telegram webhook", pending_updates=info.pending_update_count)

            on_start.append(register_webhook)
        else:
            on_start.append(lambda: receiver.start_polling(ready=bus.ping))
            checks["telegram_polling"] = receiver.polling_healthy
            on_stop.append(receiver.stop_polling)
        on_stop.append(bot.session.close)

    if settings.webhook_secret is not None:
        hook = JsonWebhookAdapter(settings.webhook_secret.get_secret_value().encode(),
                                  settings.webhook_outbound_url, blobs)
        routers.append(json_webhook_router(edge_for(hook), hook, settings.max_request_bytes))
        on_stop.append(hook.client.aclose)

    if edges:  # with no channel configured, replies wait in the queue rather than being dead-lettered
        serve_outbound(bus, "intake-messenger.outbound", edges)
    return ServiceParts(name="intake-messenger", title="Priyom intake-messenger", settings=settings, bus=bus,
                        registry=registry, routers=routers, checks=checks, on_start=on_start, on_stop=on_stop,
                        description="The messenger channels: Telegram (polling or webhook) and a JSON webhook")


def create_app() -> FastAPI:
    return build_app(build())
