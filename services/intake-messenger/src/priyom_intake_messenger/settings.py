from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from priyom_kit.settings import Credential, DatabaseSettings, Secret, database_url_field


class IntakeMessengerSettings(DatabaseSettings):
    """Environment: ``INTAKE_MESSENGER_*``, the unprefixed ``TELEGRAM_*`` names the Telegram issue pins, and
    the shared names of :class:`~priyom_kit.ServiceSettings`.

    Each channel is on when its secret is set: Telegram with ``TELEGRAM_BOT_TOKEN``, the JSON webhook
    channel with ``INTAKE_MESSENGER_WEBHOOK_SECRET``.
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
