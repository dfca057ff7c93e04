from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from priyom_kit.settings import (
    Credential,
    DatabaseSettings,
    RateWindows,
    Secret,
    database_url_field,
    json_object,
)


class IntakeMessengerSettings(DatabaseSettings):
    """Environment: ``INTAKE_MESSENGER_*``, the unprefixed ``TELEGRAM_*`` names the Telegram issue pins, and
    the shared names of :class:`~priyom_kit.ServiceSettings`.

    Each channel is on when its secret is set: Telegram with ``TELEGRAM_BOT_TOKEN``, the JSON webhook
    channel with ``INTAKE_MESSENGER_WEBHOOK_SECRET``, the website chat with ``INTAKE_MESSENGER_CHAT_SITES``
    (its site keys are public, bound to the origins allowed to use them).
    """

    model_config = SettingsConfigDict(env_prefix="INTAKE_MESSENGER_", extra="ignore")

    port: int = 8003
    database_url: SecretStr = database_url_field(
        "INTAKE_MESSENGER_", "sqlite+aiosqlite:///var/intake-messenger.db",
        "SQLAlchemy async URL of the journal of delivered replies (sqlite+aiosqlite or postgresql+asyncpg)",
    )
    journal_retention_days: int = Field(
        default=30, ge=1, le=3650,
        description="Days a delivered reply is remembered (a redelivery after that would be sent again)",
    )
    album_parts_retention_days: int = Field(
        default=7, ge=1, le=3650,
        description="Days the contact each Telegram album part went into is remembered (Telegram re-sends an "
                    "unconfirmed update within hours, never after days)",
    )
    telegram_bot_token: Credential = Field(
        default=None, validation_alias="TELEGRAM_BOT_TOKEN",
        description="Bot token from @BotFather; without it the Telegram channel is off",
    )
    telegram_mode: Literal["polling", "webhook"] = Field(
        default="polling", validation_alias="TELEGRAM_MODE",
        description="polling (getUpdates, works behind NAT) or webhook (POST /telegram/webhook on this port)",
    )
    telegram_api_base: str = Field(
        default="https://api.telegram.org", validation_alias="TELEGRAM_API_BASE",
        description="Bot API server: the real one, a self-hosted telegram-bot-api, or a test fake",
    )
    telegram_webhook_secret: Secret = Field(
        default=None, validation_alias="TELEGRAM_WEBHOOK_SECRET",
        description="secret_token Telegram sends in X-Telegram-Bot-Api-Secret-Token; required in webhook mode",
    )
    telegram_webhook_url: str | None = Field(
        default=None, validation_alias="TELEGRAM_WEBHOOK_URL",
        description="Public HTTPS URL of /telegram/webhook; when set, registered with setWebhook at start",
    )
    telegram_poll_timeout_s: int = Field(default=25, ge=0, le=50,
                                         description="Long-polling timeout of each getUpdates call")
    telegram_album_wait_ms: int = Field(
        default=1500, ge=0, le=10_000,
        description="How long after an album's last part the album is published as one contact",
    )
    max_file_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1,
        description="Largest file stored as an attachment (the cloud Bot API serves 20 MB at most)",
    )
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024,
                                   description="Largest webhook request body accepted (413 above)")
    webhook_secret: Secret = Field(
        default=None,
        description="HMAC-SHA256 key of the JSON webhook channel (X-Priyom-Signature), at least 16 characters; "
                    "empty: the channel is off",
    )
    webhook_outbound_url: str | None = Field(
        default=None, description="Where the JSON webhook channel POSTs replies (signed the same way)",
    )

    chat_sites: Annotated[dict[str, list[str]], NoDecode, BeforeValidator(json_object)] = Field(
        default_factory=dict,
        description='Website chat: site keys and the page origins each may be used from, JSON {"shop-1": '
                    '["https://shop.example.ru"]}; checked on every WebSocket handshake. Empty: the chat is off',
    )
    chat_demo_site: str | None = Field(
        default=None, description="A site key of INTAKE_MESSENGER_CHAT_SITES to show on the demo page /chat/demo "
                                  "(make up sets it); empty: no demo page")
    chat_max_text: int = Field(default=4000, ge=100, le=100_000,
                               description="Longest chat message a visitor may send, in characters")
    chat_max_file_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, le=20 * 1024 * 1024,
                                     description="Largest file a chat visitor may upload (the widget refuses larger)")
    chat_max_files: int = Field(default=3, ge=0, le=10, description="Files one chat message may carry")
    chat_rate_per_visitor: RateWindows = Field(
        default="20/minute;300/hour",
        description="Chat messages one visitor may send (limits' notation, ';' between windows); above: refused "
                    "with a wait the widget shows")
    chat_rate_per_ip: RateWindows = Field(
        default="60/minute;1000/hour",
        description="Chat connections and messages from one address, together (limits' notation)")
    chat_rate_storage: str = Field(
        default="memory://",
        description="Where the chat's rate counters live: memory:// (this process) or redis://host:6379/0 (shared)")
    chat_max_connections: int = Field(default=5000, ge=1,
                                      description="Visitor WebSockets one process holds at once; above: refused")
    chat_history_messages: int = Field(default=100, ge=1, le=1000,
                                       description="Latest messages a returning visitor is shown")
    chat_history_retention_days: int = Field(
        default=90, ge=1, le=3650,
        description="Days a chat conversation is kept for the visitor after its last message (the ticket keeps "
                    "its own copy)")
    chat_agents_online: bool = Field(
        default=True,
        description="Whether the widget says agents are online when no router is set (with one, its roster "
                    "decides); false: it takes messages for an answer by e-mail (a visitor who left one is answered "
                    "there)")
    chat_router_url: str | None = Field(
        default=None,
        description="The router's address: the chat is online while any agent in its roster is available "
                    "(GET /api/v1/agents); empty: INTAKE_MESSENGER_CHAT_AGENTS_ONLINE decides")
    chat_router_token: SecretStr | None = Field(
        default=None, description="Bearer token the chat reads the router's roster with; empty: intake-messenger's "
                                  "own entry in PRIYOM_SERVICE_TOKENS")
    chat_presence_every_s: float = Field(default=30.0, ge=1,
                                         description="How often the chat asks the router who is available (seconds)")

    @field_validator("chat_sites")
    @classmethod
    def _sites_are_origins(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for key, origins in value.items():
            if not re.fullmatch(r"[A-Za-z0-9_-]{3,64}", key):
                raise ValueError(f"chat site key {key!r}: 3-64 characters of A-Z, a-z, 0-9, _ and -")
            for origin in origins:
                url = urlsplit(origin)
                if url.scheme not in ("http", "https") or not url.netloc or url.path.strip("/"):
                    raise ValueError(f"chat site {key!r}: {origin!r} is not an origin (scheme://host[:port])")
        return value

    @field_validator("telegram_api_base")
    @classmethod
    def _token_never_in_clear(cls, value: str) -> str:
        # Every Bot API URL carries the token: plain HTTP only to a server on this machine.
        url = urlsplit(value)
        if url.scheme != "https" and not (url.scheme == "http" and url.hostname in ("127.0.0.1", "localhost", "::1")):
            raise ValueError("TELEGRAM_API_BASE must be https:// (http:// only for a server on localhost)")
        return value.rstrip("/")

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret_telegram_accepts(cls, value: SecretStr | None) -> SecretStr | None:
        # setWebhook refuses anything else; a weak secret is refused here, before anything starts.
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", value.get_secret_value()):
            raise ValueError("TELEGRAM_WEBHOOK_SECRET must be 16-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> IntakeMessengerSettings:
        if self.telegram_bot_token and self.telegram_mode == "webhook" and not self.telegram_webhook_secret:
            raise ValueError("TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_SECRET (requests are verified with it)")
        return self
