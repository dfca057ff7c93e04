from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from priyom_kit import ServiceSettings

from .channels import DEFAULT_EXTENSION_PATTERN


class IntakeTelephonySettings(ServiceSettings):
    """Environment: ``INTAKE_TELEPHONY_*``, the pinned ``AMI_*`` names, and the shared names of
    :class:`~priyom_kit.ServiceSettings`. Without ``AMI_HOST`` the AMI bridge is off and only the CTI webhook
    serves calls."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_TELEPHONY_", extra="ignore")

    port: int = 8004
    ami_host: str | None = Field(default=None, validation_alias="AMI_HOST",
                                 description="Asterisk Manager Interface host; unset: AMI off, CTI webhook only")
    ami_port: int = Field(default=5038, ge=1, le=65535, validation_alias="AMI_PORT",
                          description="Asterisk Manager Interface port")
    ami_username: str = Field(default="priyom", validation_alias="AMI_USERNAME",
                              description="The manager.conf user (read = call,agent,cdr,dialplan; write = originate,reporting)")
    ami_secret: SecretStr | None = Field(default=None, validation_alias="AMI_SECRET",
                                         description="The manager.conf user's secret")
    ami_events: str = Field(default="call,agent,cdr,dialplan",
                            description="Event classes asked for at login (dialplan brings MIXMONITOR_FILENAME)")
    pbx_id: str = Field(default="pbx", min_length=1, max_length=64,
                        description="This PBX's name in idempotency keys (several PBXes may share one bus)")
    extension_pattern: str = Field(default=DEFAULT_EXTENSION_PATTERN,
                                   description="Regular expression of agents' extensions (trunks do not match)")
    default_region: str = Field(default="RU", min_length=2, max_length=2,
                                description="Region of numbers without a country code (E.164 conversion)")
    lookup_timeout_ms: int = Field(default=300, ge=10, le=5000,
                                   description="Wait this long for identity's card; then pop up without it")
    cdr_wait_s: float = Field(default=1.0, ge=0, le=30,
                              description="Wait after hangup for a CDR (recording, billed time) before the contact")
    internal_contacts: bool = Field(default=False,
                                    description="Also make calls between two extensions into contacts")
    ping_interval_s: float = Field(default=10.0, gt=0, description="AMI watchdog ping interval")
    reconnect_min_s: float = Field(default=1.0, gt=0, description="First AMI reconnect delay (doubles)")
    reconnect_max_s: float = Field(default=60.0, gt=0, description="Longest AMI reconnect delay")
    originate_context: str = Field(default="from-internal",
                                   description="Dialplan context click-to-call dials the number in")
    originate_channel: str = Field(default="PJSIP/{extension}",
                                   description="The agent's device for click-to-call; {extension} is replaced")
    originate_timeout_s: int = Field(default=30, ge=5, le=120,
                                     description="How long the agent's phone rings for click-to-call")
    tickets_url: str | None = Field(default=None,
                                    description="Tickets' address: staff tokens for click-to-call are checked there")
    cti_secret: SecretStr | None = Field(default=None,
                                         description="Secret of the CTI webhook (/api/v1/cti/{secret}); unset: off")

    @field_validator("ami_host", "ami_secret", "cti_secret", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """``AMI_HOST=`` or ``INTAKE_TELEPHONY_CTI_SECRET=`` (an empty value, as compose files pass an unset
        variable) means off: an empty CTI secret must never open the webhook to anyone."""
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, SecretStr) and not value.get_secret_value().strip():
            return None
        return value
