from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from priyom_kit.settings import DatabaseSettings, database_url_field

MiB = 1024 * 1024


class ImapMailbox(BaseModel):
    """One mailbox the service reads (an element of ``INTAKE_EMAIL_IMAP_MAILBOXES``, a JSON list).

    ``tls``: ``implicit`` (IMAPS, port 993), ``starttls`` (port 143, upgraded before anything is sent; a
    server that does not offer STARTTLS is refused rather than spoken to in clear text) or ``none`` (a local
    server only). ``true``/``false`` still mean implicit/none. ``auth``: ``password`` (LOGIN) or ``xoauth2``
    (SASL XOAUTH2, as Gmail and Microsoft 365 require), with either a fixed ``oauth2_token`` or a refresh
    token exchanged at ``oauth2_token_url`` for a fresh access token before each login.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Stable name: the checkpoint's key")
    host: str
    port: int = 993
    tls: Literal["implicit", "starttls", "none"] = "implicit"
    tls_ca_file: Path | None = Field(default=None, description="PEM CA bundle to trust instead of the system's")
    username: str
    auth: Literal["password", "xoauth2"] = "password"
    password: SecretStr | None = None
    oauth2_token: SecretStr | None = Field(default=None, description="A fixed XOAUTH2 access token")
    oauth2_token_url: str | None = Field(default=None, description="OAuth2 token endpoint (refresh_token grant)")
    oauth2_client_id: str | None = None
    oauth2_client_secret: SecretStr | None = None
    oauth2_refresh_token: SecretStr | None = None
    oauth2_scope: str | None = Field(default=None, description="e.g. https://mail.google.com/")
    folder: str = "INBOX"
    processed_folder: str | None = Field(
        default=None, description="Move processed mail here; without it processed mail is flagged \\Seen")

    @field_validator("tls", mode="before")
    @classmethod
    def _tls_from_bool(cls, value: object) -> object:
        # The first releases had ``tls: bool`` (implicit TLS or nothing); those configurations still work.
        if isinstance(value, bool):
            return "implicit" if value else "none"
        return value

    @model_validator(mode="after")
    def _credentials(self) -> ImapMailbox:
        if self.auth == "password" and self.password is None:
            raise ValueError(f"mailbox {self.name}: auth=password needs a password")
        if self.auth == "xoauth2" and self.oauth2_token is None and not (
                self.oauth2_token_url and self.oauth2_client_id and self.oauth2_refresh_token):
            raise ValueError(f"mailbox {self.name}: auth=xoauth2 needs oauth2_token, or oauth2_token_url, "
                             "oauth2_client_id and oauth2_refresh_token")
        return self


class IntakeEmailSettings(DatabaseSettings):
    """Environment: ``INTAKE_EMAIL_*`` plus the shared names of :class:`~priyom_kit.ServiceSettings`."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_EMAIL_", extra="ignore")

    port: int = 8005
    database_url: SecretStr = database_url_field(
        "INTAKE_EMAIL_", "sqlite+aiosqlite:///var/intake-email.db",
        "SQLAlchemy async URL of the IMAP checkpoints: SQLite (aiosqlite) or PostgreSQL (asyncpg)",
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
    smtp_max_sessions: int = Field(
        default=64, ge=1, description="Most SMTP sessions at once; one more is greeted with 421 and closed. "
        "aiosmtpd holds a session's DATA in memory before parsing, so this times INTAKE_EMAIL_SMTP_MAX_BYTES "
        "bounds the memory SMTP can take")
    smtp_auth: SecretStr | None = Field(
        default=None, description="user:password[,user:password…]: require SMTP AUTH with these logins")
    smtp_tls_cert: Path | None = Field(default=None, description="PEM certificate: offer STARTTLS")
    smtp_tls_key: Path | None = Field(default=None, description="PEM key of the STARTTLS certificate")
    imap_mailboxes: list[ImapMailbox] = Field(
        default=[], description="Mailboxes to read (JSON list of {name, host, port, tls (implicit, starttls, none), "
        "tls_ca_file, username, auth (password, xoauth2), password, oauth2_token or oauth2_token_url, "
        "oauth2_client_id, oauth2_client_secret, oauth2_refresh_token, oauth2_scope, folder, processed_folder})")
    imap_ingested_retention_days: float = Field(
        default=180.0, gt=0,
        description="Days the keys of ingested IMAP mail are kept to re-match a mailbox whose UIDVALIDITY changed "
        "(pruned at start and hourly, in small batches). Trade-off: a mailbox recreated with mail older than this "
        "publishes that old mail again; tickets' inbox still drops it as a duplicate by its idempotency key "
        "(Message-ID and content digest) while it remembers that key")
    imap_idle_s: float = Field(default=300.0, gt=0, description="Restart IMAP IDLE after this many seconds")
    imap_poll_s: float = Field(default=30.0, gt=0, description="Poll interval when the server has no IDLE")
    imap_batch: int = Field(default=100, ge=1, le=200, description="Messages fetched per IMAP round trip (at most "
                            "200: aioimaplib parses an answer recursively, line by line)")
    imap_fetch_bytes: int = Field(
        default=32 * MiB, ge=MiB, description="Most bytes fetched per IMAP round trip (one larger mail alone)")
    imap_backoff_max_s: float = Field(default=60.0, gt=0, description="Longest wait between reconnects")
    list_mail: Literal["attach", "ticket"] = Field(
        default="attach", description="Mailing-list mail: attach (flagged, opens no ticket) or ticket (as a person)")
    parse_memory_bytes: int = Field(
        default=512 * MiB, ge=16 * MiB,
        description="Memory mail parsing may take at once (a mail counts 12 times its size); a mail needing "
        "more alone is dead-lettered with the reason")
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
