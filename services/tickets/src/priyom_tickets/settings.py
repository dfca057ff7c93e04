from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from priyom_kit.settings import DatabaseSettings, RateWindows, Secret, database_url_field


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
    reply_fallback: list[str] = Field(
        default=["email", "telegram"],
        description="Where a customer whose own channel has no way back (the web form, a phone call) is answered, "
                    'in order, from their card: JSON ["telegram", "email"] prefers Telegram; with none of them, '
                    "a reply becomes a call-back activity",
    )
    scheduler_interval_s: float = Field(
        default=60.0, gt=0,
        description="How often overdue tickets are marked, silent ones closed and unsent events re-sent (seconds)",
    )
    live_interval_s: float = Field(
        default=1.0, gt=0, le=60,
        description="How often the changed tickets are read and pushed to the open consoles (/ws/live), seconds",
    )
    activity_remind_before_s: float = Field(
        default=600.0, ge=0, le=7 * 86400,
        description="How long before an activity is due its owner's console reminds them (seconds); a second "
                    "reminder comes when it falls overdue")
    inbox_retention_days: float = Field(
        default=30.0, gt=0,
        description="Days a processed message's idempotency key and outcome are kept in tickets_inbox (pruned "
                    "hourly in batches); a redelivery later than this is still stopped by the tickets' own unique "
                    "contact id and channel key")
    outbox_retention_days: float = Field(
        default=7.0, gt=0,
        description="Days an event that left through the outbox (a reply or notice with the customer's address "
                    "and text) is kept after it was sent; unsent events are never pruned")
    dead_letter_retention_days: float = Field(
        default=30.0, gt=0,
        description="Days a dead letter is kept (whatever its state: the TTL of what failed, which may carry "
                    "personal data); older ones are deleted hourly in batches")

    trust_mail_without_verdict: bool = Field(
        default=True,
        description="Whether mail with no sender-authentication verdict (no trusted Authentication-Results, nothing "
                    "intake-email could check) may rate, close or reopen a known client's ticket by itself; false: "
                    "it is flagged for an agent like mail whose SPF/DKIM/DMARC fails (which always is)")

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

    staff_token_days: int = Field(
        default=90, ge=1, le=3650,
        description="Days a staff token works after it was made or rotated (POST /api/v1/staff/{name}/token, "
                    "POST /api/v1/me/token)")
    public_link_secret: Secret = Field(
        default=None, validation_alias="PRIYOM_PUBLIC_LINK_SECRET",
        description="Key of the customer's public links (the web form's status and rating link), shared with "
                    "intake-web (shared variable, no prefix); empty: public links are off, only staff look up")
    public_link_rate: RateWindows = Field(
        default="120/minute;2000/hour",
        description="Requests one address may make to the public links (limits' notation; 429 with Retry-After "
                    "beyond)")

    identity_url: str | None = Field(
        default=None,
        description="Identity's address: the console's client panel reads the full card there "
                    "(empty: the panel shows only what tickets knows)",
    )
    identity_token: Secret = Field(
        default=None,
        description="Bearer token tickets reads cards from identity with; empty: tickets' own entry in "
                    "PRIYOM_SERVICE_TOKENS",
    )
    identity_timeout_s: float = Field(
        default=2.0, gt=0, le=30, description="Longest wait for identity's card before the panel does without it")
    telephony_url: str | None = Field(
        default=None,
        description="intake-telephony's address: the console's call buttons ask it to ring the agent's extension "
                    "and dial (empty: no click-to-call)",
    )
    telephony_timeout_s: float = Field(
        default=5.0, gt=0, le=30, description="Longest wait for intake-telephony to take a click-to-call")
    portal_url: str | None = Field(
        default=None,
        description="The portal's address: the console's knowledge-base panel searches it, with the agent's token "
                    "(empty: no knowledge base in the console)",
    )
    portal_timeout_s: float = Field(
        default=5.0, gt=0, le=30, description="Longest wait for the portal's knowledge base to answer the console")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def silence(self) -> timedelta:
        return timedelta(days=self.close_after_silence_days)
