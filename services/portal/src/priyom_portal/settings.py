"""The portal's environment: ``PORTAL_*`` plus the shared names of :class:`~priyom_kit.ServiceSettings`."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from priyom_kit.settings import DatabaseSettings, database_url_field


class PortalSettings(DatabaseSettings):
    """The portal keeps the knowledge base (articles, their revisions, feedback) and the customers' sign-in
    codes and sessions, so it has a database."""

    model_config = SettingsConfigDict(env_prefix="PORTAL_", extra="ignore")

    port: int = 8007
    database_url: SecretStr = database_url_field(
        "PORTAL_",
        "sqlite+aiosqlite:///var/portal.db",
        "SQLAlchemy async URL (sqlite+aiosqlite or postgresql+asyncpg)",
    )
    cors_origins: list[str] = Field(
        default=["http://localhost:8002", "http://127.0.0.1:8002"],
        description="Origins whose pages may call the public knowledge-base API from the browser (search, "
        "suggestions while the customer types, feedback): the pages serving the web form",
    )
    public_url: str = Field(
        default="",
        description="The portal's public base URL, put before the article links search answers (/kb/{id}); "
        "empty: the links are relative to the portal",
    )
    feedback_rate: str = Field(
        default="30/minute;300/hour",
        description="Feedback (helped / did not help) accepted per client address within these windows",
    )
    deflection_window_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="The deflection rate (priyom_kb_deflection_rate) counts the suggestion sessions of this "
        "many last days",
    )
    deflection_refresh_s: float = Field(
        default=15.0,
        gt=0,
        le=3600,
        description="How often the deflection rate is read again from the database (every process agrees)",
    )

    # -- the customers' account (sign-in by one-time code, "my requests") ----------------------------------
    session_secret: SecretStr | None = Field(
        default=None,
        min_length=32,
        description="Key of the sign-in codes' and session tokens' hashes (at least 32 characters); empty: "
        "the account pages are off (503), the knowledge base works without it",
    )
    identity_url: str | None = Field(
        default=None, description="Identity's address: the card of an e-mail or Telegram id signing in"
    )
    tickets_url: str | None = Field(
        default=None, description="Tickets' address: the customer's requests (/api/v1/customer/…)"
    )
    service_token: SecretStr | None = Field(
        default=None,
        description="Bearer token the portal calls identity and tickets with; empty: the portal's own entry in "
        "PRIYOM_SERVICE_TOKENS",
    )
    code_ttl_s: int = Field(default=600, ge=60, le=3600, description="How long a sign-in code may be used")
    code_attempts: int = Field(
        default=5, ge=1, le=10, description="Wrong entries of one code before it is spent (a new one is needed)"
    )
    session_ttl_s: int = Field(
        default=8 * 3600, ge=300, le=30 * 86400, description="How long a customer stays signed in"
    )
    sign_in_rate_per_identifier: str = Field(
        default="3/10minutes;10/day",
        description="Codes sent to one e-mail address or Telegram id within these windows (limits' notation)",
    )
    sign_in_rate_per_ip: str = Field(
        default="10/10minutes;50/day",
        description="Codes asked for, and codes entered, from one client address within these windows",
    )
    cookie_secure: bool = Field(
        default=True,
        description="Send the session cookie over HTTPS only; false only for a portal on plain HTTP (local tests)",
    )
    max_files: int = Field(default=5, ge=0, le=20, description="Files a customer may attach to one reply")
    max_file_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024,
        description="Largest file a customer may attach (kept in the blob store, PRIYOM_BLOB_DIR or S3)",
    )
    request_timeout_s: float = Field(
        default=5.0, gt=0, le=30, description="Longest wait for identity or tickets before a page says so"
    )

    @property
    def caller_token(self) -> SecretStr | None:
        """The credential for identity and tickets: ``PORTAL_SERVICE_TOKEN``, else the portal's service token."""
        return self.service_token or self.service_tokens.get("portal")
