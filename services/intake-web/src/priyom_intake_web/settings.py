from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from priyom_kit import ServiceSettings
from priyom_kit.settings import RateWindows, Secret

MiB = 1024 * 1024


class IntakeWebSettings(ServiceSettings):
    """Environment: ``INTAKE_WEB_*`` plus the shared names of :class:`~priyom_kit.ServiceSettings`."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_WEB_", extra="ignore")

    port: int = 8002
    tickets_public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Tickets' address as a browser reaches it: the form polls the ticket number there",
    )
    kb_url: str = Field(
        default="",
        description="The knowledge base's address as a browser reaches it (the portal, its PORTAL_PUBLIC_URL): "
                    "while the customer types, the form offers its articles; empty: no suggestions",
    )
    max_message_chars: int = Field(default=20_000, ge=1, le=100_000,
                                   description="Longest message text accepted, in characters")
    max_attachments: int = Field(default=10, ge=0, le=50, description="Most files in one submission")
    max_attachment_bytes: int = Field(default=10 * MiB, ge=1, description="Largest single file, in bytes")
    max_request_bytes: int = Field(default=25 * MiB, ge=1,
                                   description="Largest request body; above it the answer is 413")
    require_consent: bool = Field(
        default=True, description="Refuse submissions without consent to personal data processing (152-FZ)"
    )
    allowed_origins: list[str] = Field(
        default=[],
        description='Pages of other origins that may POST the form and read its answers (CORS), JSON '
                    '["https://www.example.ru"]; the form\'s own origin (the Host it is reached at) always may, a '
                    "browser page of any other site is refused",
    )
    frame_ancestors: list[str] = Field(
        default=[],
        description='Sites that may show the form in a frame (CSP frame-ancestors, JSON ["https://www.example.ru"]); '
                    "empty: none",
    )
    rate_limit_per_ip: RateWindows = Field(
        default="10/minute;60/hour",
        description="Submissions one address may POST (limits' notation, ';' between windows); above: 429",
    )
    rate_limit_per_identifier: RateWindows = Field(
        default="5/hour;20/day",
        description="Accepted submissions per e-mail and per phone number; above: 429",
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where the counters live: memory:// (this process only) or redis://host:6379/0, shared by "
                    "every process of the form",
    )
    max_concurrent_submissions: int = Field(
        default=16, ge=1, description="Submissions handled at once; one more is answered 503 with Retry-After")
    challenge: Literal["pow", "none"] = Field(
        default="pow", description="Bot check each submission must pass: pow (proof of work the page solves) "
                                   "or none (trusted callers only)")
    challenge_difficulty: int = Field(
        default=16, ge=1, le=28,
        description="Leading zero bits the proof of work needs: 16 is about 65 000 hashes, a second in a browser")
    challenge_ttl_s: int = Field(default=900, ge=30, le=86_400,
                                 description="How long an issued challenge may be solved and used, in seconds")
    challenge_key: Secret = Field(
        default=None,
        description="HMAC key signing challenges (at least 16 characters); empty: a random key per process, so "
                    "several processes behind one address must share one",
    )

    public_link_secret: Secret = Field(
        default=None, validation_alias="PRIYOM_PUBLIC_LINK_SECRET",
        description="Key of the status link the form returns, shared with tickets (shared variable, no prefix); "
                    "empty: the answer carries no status link and the page shows no ticket number",
    )

    @field_validator("rate_limit_storage")
    @classmethod
    def _known_storage(cls, value: str) -> str:
        if value.split("://", 1)[0] not in ("memory", "redis", "rediss"):
            raise ValueError("INTAKE_WEB_RATE_LIMIT_STORAGE must be memory:// or redis://host:port/db")
        return value
