"""The router's environment: ``ROUTER_*`` plus the shared names of :class:`~priyom_kit.ServiceSettings`."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from priyom_kit.settings import DatabaseSettings, Secret, database_url_field


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
    classifier: bool = Field(
        default=True,
        description="Consult the learned model where no rule fires (false: the rule book's default type decides)",
    )
    model_file: Path | None = Field(
        default=None,
        description="A model written by make train-router (JSON), read again when it changes; none: the model "
                    "built into the router, trained on services/router/training/contacts/train.jsonl",
    )
    identity_url: str | None = Field(
        default=None,
        description="identity's base URL, to read a client card when route/explain is given only client_id",
    )
    identity_token: Secret = Field(
        default=None, description="Bearer token for identity's API (default: the router's own entry in "
                                  "PRIYOM_SERVICE_TOKENS)"
    )
    outbox_retry_s: float = Field(
        default=1.0, gt=0, le=60,
        description="How often decisions a failed send left in the outbox are sent again (never given up)",
    )
    queue_sweep_seconds: float = Field(
        default=60, ge=0,
        description="How often contacts waiting in a queue are offered to teams whose working hours have "
                    "started; 0 turns the sweep off",
    )
