"""Identity's environment: ``IDENTITY_*`` plus the shared names of :class:`~priyom_kit.ServiceSettings`."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from priyom_kit import ServiceSettings


class IdentitySettings(ServiceSettings):
    """Identity owns the client cards, so it has a database; the region decides how local phones parse."""

    model_config = SettingsConfigDict(env_prefix="IDENTITY_", extra="ignore")

    port: int = 8001
    database_url: str = Field(
        default="sqlite+aiosqlite:///var/identity.db",
        validation_alias=AliasChoices("IDENTITY_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy async URL (sqlite+aiosqlite or postgresql+asyncpg)",
    )
    default_region: str = Field(
        default="RU", min_length=2, max_length=2,
        description="ISO 3166 region for numbers written without a country code (8 916 … is Russian)",
    )
