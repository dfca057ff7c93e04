from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from priyom_kit import ServiceSettings


class IntakeEmailSettings(ServiceSettings):
    """Environment: ``INTAKE_EMAIL_*`` plus the shared names of :class:`~priyom_kit.ServiceSettings`.

    The channel's own settings are added with the channel.
    """

    model_config = SettingsConfigDict(env_prefix="INTAKE_EMAIL_", extra="ignore")

    port: int = 8005
