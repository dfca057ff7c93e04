from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from priyom_kit.settings import DatabaseSettings, database_url_field


class TicketsSettings(DatabaseSettings):
    """Environment: ``TICKETS_*`` plus the shared names of :class:`~priyom_kit.ServiceSettings`."""

    model_config = SettingsConfigDict(env_prefix="TICKETS_", extra="ignore")

    port: int = 8000
    database_url: SecretStr = database_url_field(
        "TICKETS_", "sqlite+aiosqlite:///var/tickets.db",
        "SQLAlchemy async URL: SQLite (aiosqlite) embedded, PostgreSQL (asyncpg) in production",
    )
    cors_origins: list[str] = Field(
        default=["http://localhost:8002", "http://127.0.0.1:8002"],
        description="Origins allowed to read the public contact lookup: the pages serving the web form",
    )
    blob_dir: Path = Field(
        default=Path("var/blobs"), validation_alias="PRIYOM_BLOB_DIR",
        description="Root of the shared attachment blob store (shared variable, no prefix)",
    )
    timezone: str = Field(
        default="Europe/Moscow",
        description="IANA time zone the team works in: the year in ticket numbers, dates in customer notices",
    )
    close_after_silence_days: int = Field(
        default=7, ge=1, le=365,
        description="Days a resolved ticket waits for the customer's word before it closes by itself",
    )
    scheduler_interval_s: float = Field(
        default=60.0, gt=0,
        description="How often overdue tickets are marked, silent ones closed and unsent events re-sent (seconds)",
    )

    sla_file: Path | None = Field(
        default=None,
        description="JSON SLA policy (business hours, holidays, targets per tier and type); "
                    "empty: the built-in Moscow office week",
    )
    team_heads: dict[str, str] = Field(
        default_factory=dict,
        description='Head of each team, who gets overdue tickets escalated: JSON {"service": "Петров"}',
    )

    team_access: dict[str, dict[str, list[str]]] = Field(
        default_factory=dict,
        description='Who sees and who acts on each team\'s tickets: JSON {"quality": {"view": ["engineer", '
                    '"team_head"], "act": ["team_head"]}}; unlisted teams: every role of the team does both',
    )

    max_attachment_bytes: int = Field(
        default=26_214_400, ge=1, description="Largest file an agent may attach to a reply, in bytes")
    max_attachments: int = Field(
        default=20, ge=1, le=50, description="Most files in one upload, and on one reply")

    identity_url: str | None = Field(
        default=None,
        description="Identity's address: the console's client panel reads the full card there "
                    "(empty: the panel shows only what tickets knows)",
    )
    identity_token: SecretStr | None = Field(
        default=None,
        description="Bearer token tickets reads cards from identity with; empty: PRIYOM_ADMIN_TOKEN",
    )
    identity_timeout_s: float = Field(
        default=2.0, gt=0, le=30, description="Longest wait for identity's card before the panel does without it")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def silence(self) -> timedelta:
        return timedelta(days=self.close_after_silence_days)
