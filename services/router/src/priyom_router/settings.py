"""The router's environment: ``ROUTER_*`` plus the shared names of :class:`~priyom_kit.ServiceSettings`."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from priyom_kit.settings import DatabaseSettings, database_url_field


class RouterSettings(DatabaseSettings):
    """The router keeps rule book versions, agent states and loads, so it has a database."""

    model_config = SettingsConfigDict(env_prefix="ROUTER_", extra="ignore")

    port: int = 8006
    database_url: SecretStr = database_url_field(
        "ROUTER_", "sqlite+aiosqlite:///var/router.db",
        "SQLAlchemy async URL (sqlite+aiosqlite or postgresql+asyncpg)",
    )
    rules_file: Path | None = Field(
        default=None,
        description="YAML rule book used until one is stored through the API (default: the built-in book)",
    )
    model_file: Path | None = Field(
        default=None,
        description="Trained classifier (make train-router) consulted when no rule fires; none: no second opinion",
    )
    identity_url: str | None = Field(
        default=None,
        description="identity's base URL, to read a client card when route/explain is given only client_id",
    )
    identity_token: SecretStr | None = Field(
        default=None, description="Bearer token for identity's API (default: PRIYOM_ADMIN_TOKEN)"
    )
    queue_sweep_seconds: float = Field(
        default=60, ge=0,
        description="How often contacts waiting in a queue are offered to teams whose working hours have "
                    "started; 0 turns the sweep off",
    )
