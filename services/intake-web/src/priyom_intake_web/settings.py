from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from priyom_kit import ServiceSettings

MiB = 1024 * 1024


class IntakeWebSettings(ServiceSettings):
    """Environment: ``INTAKE_WEB_*`` plus the shared names of :class:`~priyom_kit.ServiceSettings`."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_WEB_", extra="ignore")

    port: int = 8002
    tickets_public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Tickets' address as a browser reaches it: the form polls the ticket number there",
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
