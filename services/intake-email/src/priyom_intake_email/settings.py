from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from priyom_kit import ServiceSettings

MiB = 1024 * 1024


class ImapMailbox(BaseModel):
    """One mailbox the service reads (an element of ``INTAKE_EMAIL_IMAP_MAILBOXES``, a JSON list)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Stable name: the checkpoint's key")
    host: str
    port: int = 993
    tls: bool = Field(default=True, description="Implicit TLS (aioimaplib has no STARTTLS)")
    username: str
    password: SecretStr
    folder: str = "INBOX"
    processed_folder: str | None = Field(
        default=None, description="Move processed mail here; without it processed mail is flagged \\Seen")


class IntakeEmailSettings(ServiceSettings):
    """Environment: ``INTAKE_EMAIL_*`` plus the shared names of :class:`~priyom_kit.ServiceSettings`."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_EMAIL_", extra="ignore")

    port: int = 8005
    database_url: str = Field(
        default="sqlite+aiosqlite:///var/intake-email.db",
        validation_alias=AliasChoices("INTAKE_EMAIL_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy async URL of the IMAP checkpoints: SQLite (aiosqlite) or PostgreSQL (asyncpg)",
    )
    smtp_enabled: bool = Field(default=True, description="Run the SMTP endpoint")
    smtp_host: str = Field(default="127.0.0.1", description="SMTP listen address")
    smtp_port: int = Field(default=2525, description="SMTP listen port")
    smtp_hostname: str = Field(default="priyom.local", description="Name the SMTP endpoint greets with")
    smtp_domains: Annotated[list[str], NoDecode] = Field(
        default=["priyom.local"], validation_alias="SMTP_DOMAINS",
        description="Domains the SMTP endpoint accepts mail for (comma-separated); others get 550",
    )
    smtp_recipients: Annotated[list[str], NoDecode] = Field(
        default=[], description="Further single addresses accepted outside the domains (comma-separated)")
    smtp_max_bytes: int = Field(default=25 * MiB, ge=1024, description="Largest mail accepted, in bytes (552 above)")
    smtp_auth: SecretStr | None = Field(
        default=None, description="user:password[,user:password…]: require SMTP AUTH with these logins")
    smtp_tls_cert: Path | None = Field(default=None, description="PEM certificate: offer STARTTLS")
    smtp_tls_key: Path | None = Field(default=None, description="PEM key of the STARTTLS certificate")
    imap_mailboxes: list[ImapMailbox] = Field(
        default=[], description="Mailboxes to read (JSON list of {name, host, port, tls, username, password, "
        "folder, processed_folder})")
    imap_idle_s: float = Field(default=300.0, gt=0, description="Restart IMAP IDLE after this many seconds")
    imap_poll_s: float = Field(default=30.0, gt=0, description="Poll interval when the server has no IDLE")
    imap_batch: int = Field(default=100, ge=1, le=1000, description="Messages fetched per IMAP round trip")
    imap_backoff_max_s: float = Field(default=60.0, gt=0, description="Longest wait between reconnects")
    list_mail: Literal["attach", "ticket"] = Field(
        default="attach", description="Mailing-list mail: attach (flagged, opens no ticket) or ticket (as a person)")
    parse_time_budget_s: float = Field(default=5.0, gt=0, description="Longest a single mail may take to parse")
    relay_host: str = Field(default="127.0.0.1", description="SMTP relay for replies and notices")
    relay_port: int = Field(default=25, description="SMTP relay port")
    relay_username: str | None = Field(default=None, description="SMTP relay login")
    relay_password: SecretStr | None = Field(default=None, description="SMTP relay password")
    relay_starttls: bool | None = Field(
        default=None, description="STARTTLS to the relay: true, false, or empty to use it when offered")
    relay_timeout_s: float = Field(default=30.0, gt=0, description="SMTP relay timeout per attempt")
    from_address: str = Field(default="support@priyom.local", description="From address of replies")
    from_name: str = Field(default="Priyom support", description="Display name of replies")

    @field_validator("smtp_domains", "smtp_recipients", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        # SMTP_DOMAINS=a.example,b.example reads more naturally than a JSON list; both work.
        if isinstance(value, str):
            items = json.loads(value) if value.lstrip().startswith("[") else value.split(",")
            return [str(item).strip().lower() for item in items if str(item).strip()]
        return value
