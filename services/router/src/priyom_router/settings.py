from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from priyom_kit import ServiceSettings


class RouterSettings(ServiceSettings):
    """Environment: ``ROUTER_*`` plus the shared names of :class:`~priyom_kit.ServiceSettings`."""

    model_config = SettingsConfigDict(env_prefix="ROUTER_", extra="ignore")

    port: int = 8006
    rules_file: Path | None = Field(
        default=None, description="JSON rule set replacing the built-in one (see docs/routing-rules.md)"
    )
