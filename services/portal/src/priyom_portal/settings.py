"""The portal's environment: ``PORTAL_*`` plus the shared names of :class:`~priyom_kit.ServiceSettings`."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from priyom_kit.settings import DatabaseSettings, database_url_field


class PortalSettings(DatabaseSettings):
    """The portal keeps the knowledge base (articles, their revisions, feedback), so it has a database."""

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
