from __future__ import annotations

import json
from ipaddress import ip_network
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import NoDecode, SettingsConfigDict

from priyom_kit.settings import MIN_SECRET_CHARS, Credential, DatabaseSettings, Secret, database_url_field

MiB = 1024 * 1024


class ImapMailbox(BaseModel):
    """One mailbox the service reads (an element of ``INTAKE_EMAIL_IMAP_MAILBOXES``, a JSON list).

    ``tls``: ``implicit`` (IMAPS, port 993), ``starttls`` (port 143, upgraded before anything is sent; a
    server that does not offer STARTTLS is refused rather than spoken to in clear text) or ``none`` (a local
    server only). ``true``/``false`` still mean implicit/none. ``auth``: ``password`` (LOGIN) or ``xoauth2``
    (SASL XOAUTH2, as Gmail and Microsoft 365 require), with either a fixed ``oauth2_token`` or a refresh
    token exchanged at ``oauth2_token_url`` for a fresh access token before each login.
    """

    model_config = ConfigDict(hide_input_in_errors=True)  # a refused mailbox never prints its password

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Stable name: the checkpoint's key")
    host: str
    port: int = 993
    tls: Literal["implicit", "starttls", "none"] = "implicit"
    tls_ca_file: Path | None = Field(default=None, description="PEM CA bundle to trust instead of the system's")
    username: str
    auth: Literal["password", "xoauth2"] = "password"
    password: Credential = None
    oauth2_token: Credential = Field(default=None, description="A fixed XOAUTH2 access token")
    oauth2_token_url: str | None = Field(default=None, description="OAuth2 token endpoint (refresh_token grant)")
    oauth2_client_id: str | None = None
    oauth2_client_secret: Credential = None
    oauth2_refresh_token: Credential = None
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
    smtp_auth: Secret = Field(
        default=None, description="user:password[,user:password…]: require SMTP AUTH with these logins "
        "(each password at least 16 characters); empty: no AUTH")
    smtp_tls_cert: Path | None = Field(default=None, description="PEM certificate: offer STARTTLS")
    smtp_tls_key: Path | None = Field(default=None, description="PEM key of the STARTTLS certificate")
    imap_mailboxes: list[ImapMailbox] = Field(
        default=[], description="Mailboxes to read (JSON list of {name, host, port, tls (implicit, starttls, none), "
        "tls_ca_file, username, auth (password, xoauth2), password, oauth2_token or oauth2_token_url, "
        "oauth2_client_id, oauth2_client_secret, oauth2_refresh_token, oauth2_scope, folder, processed_folder})")
    sent_replies_retention_days: float = Field(
        default=30.0, gt=0,
        description="Days the Message-ID of a reply handed to the relay is remembered, so a redelivered reply is not "
        "sent twice (pruned hourly in batches)")
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
    trusted_authserv_ids: Annotated[list[str], NoDecode] = Field(
        default=[], description="Authserv-ids of our own receiving hosts (comma-separated, e.g. mx.example.ru or "
        "mx.google.com for a Gmail mailbox): their Authentication-Results header gives the sender's SPF/DKIM/DMARC "
        "verdict; such headers from any other host are ignored (senders can write them). The host must remove "
        "incoming headers that carry its id (RFC 8601 §5)")
    check_senders: bool = Field(
        default=True, description="Check DKIM, SPF (SMTP only) and DMARC here, with DNS lookups, for mail no trusted "
        "Authentication-Results header judged; false: such mail carries no verdict")
    sender_relays: Annotated[list[str], NoDecode] = Field(
        default=["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
        description="Addresses or networks (comma-separated CIDR) of our own mail servers that hand mail to the SMTP "
        "endpoint: SPF is not judged from them (their address is not the sender's); DKIM and DMARC still are. "
        "Internet senders never connect from private addresses")
    sender_dns_timeout_s: float = Field(
        default=5.0, gt=0, le=30, description="Longest one DNS lookup of the sender checks may take (a check that "
        "outlasts four of them gives no verdict)")
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
    relay_password: Credential = Field(default=None, description="SMTP relay password")
    # BeforeValidator: an empty value (compose's `${INTAKE_EMAIL_RELAY_STARTTLS:-}`) is "when offered", not an error.
    relay_starttls: Annotated[bool | None, BeforeValidator(lambda v: None if v == "" else v)] = Field(
        default=None, description="STARTTLS to the relay: true, false, or empty to use it when offered")
    relay_timeout_s: float = Field(default=30.0, gt=0, description="SMTP relay timeout per attempt")
    from_address: str = Field(default="support@priyom.local", description="From address of replies")
    from_name: str = Field(default="Priyom support", description="Display name of replies")

    @field_validator("smtp_auth")
    @classmethod
    def _smtp_passwords_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        # Each login's password guards the endpoint, not the list as a whole.
        logins = value.get_secret_value().split(",") if value is not None else []
        if any(len(item.split(":", 1)[1]) < MIN_SECRET_CHARS for item in logins if ":" in item):
            raise ValueError(f"each INTAKE_EMAIL_SMTP_AUTH password must be at least {MIN_SECRET_CHARS} characters")
        return value

    @field_validator("sender_relays")
    @classmethod
    def _relays_are_networks(cls, value: list[str]) -> list[str]:
        # Refused at start with the bad entry, rather than when the first mail arrives.
        for item in value:
            try:
                ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"INTAKE_EMAIL_SENDER_RELAYS: {item!r} is no address or network") from exc
        return value

    @field_validator("smtp_domains", "smtp_recipients", "trusted_authserv_ids", "sender_relays", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        # SMTP_DOMAINS=a.example,b.example reads more naturally than a JSON list; both work.
        if isinstance(value, str):
            items = json.loads(value) if value.lstrip().startswith("[") else value.split(",")
            return [str(item).strip().lower() for item in items if str(item).strip()]
        return value
