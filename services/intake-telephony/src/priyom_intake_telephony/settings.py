from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from priyom_kit.settings import Credential, DatabaseSettings, Secret, database_url_field

from .channels import DEFAULT_EXTENSION_PATTERN


class IntakeTelephonySettings(DatabaseSettings):
    """Environment: ``INTAKE_TELEPHONY_*``, the pinned ``AMI_*`` names, and the shared names of
    :class:`~priyom_kit.ServiceSettings`. Without ``AMI_HOST`` the AMI bridge is off and only the CTI webhook
    serves calls."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_TELEPHONY_", extra="ignore")

    port: int = 8004
    database_url: SecretStr = database_url_field(
        "INTAKE_TELEPHONY_", "sqlite+aiosqlite:///var/intake-telephony.db",
        "SQLAlchemy async URL of the calls in progress and the outbox of finished calls (sqlite+aiosqlite or "
        "postgresql+asyncpg)",
    )
    ami_host: str | None = Field(default=None, validation_alias="AMI_HOST",
                                 description="Asterisk Manager Interface host; unset: AMI off, CTI webhook only")
    ami_port: int = Field(default=5038, ge=1, le=65535, validation_alias="AMI_PORT",
                          description="Asterisk Manager Interface port")
    ami_username: str = Field(default="priyom", validation_alias="AMI_USERNAME",
                              description="The manager.conf user (read = call,agent,cdr,dialplan; write = originate,reporting)")
    ami_secret: Credential = Field(default=None, validation_alias="AMI_SECRET",
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
    outbox_retry_s: float = Field(default=1.0, gt=0, le=60,
                                  description="How often contacts the broker refused are sent again (never given up)")
    ping_interval_s: float = Field(default=10.0, gt=0, description="AMI watchdog ping interval")
    reconnect_min_s: float = Field(default=1.0, gt=0, description="First AMI reconnect delay (doubles)")
    reconnect_max_s: float = Field(default=60.0, gt=0, description="Longest AMI reconnect delay")
    originate_context: str = Field(default="from-internal",
                                   description="Dialplan context click-to-call dials the number in")
    originate_channel: str = Field(default="PJSIP/{extension}",
                                   description="The agent's device for click-to-call; {extension} is replaced")
    originate_timeout_s: int = Field(default=30, ge=5, le=120,
                                     description="How long the agent's phone rings for click-to-call")
    cti_secret: Secret = Field(
        default=None, description="Secret of the CTI webhook (/api/v1/cti/{secret}), at least 16 characters; "
                                  "empty: off")
    staff_refresh_s: float = Field(
        default=60.0, gt=0, le=3600,
        description="How often the staff directory (who is on which extension, from tickets at PRIYOM_STAFF_URL) is "
                    "read again: CTI posts name agents, pop-ups go to extensions")
    cti_blocked_callers: Annotated[list[str], NoDecode] = Field(
        default=[], description="Caller numbers the CTI webhook rejects (comma-separated): a newCall from one "
                                "is answered {\"action\":\"reject\",\"reason\":\"busy\"} as Zammad does, "
                                "and neither rings nor becomes a contact")
    cti_outbound_caller_id: str | None = Field(
        default=None, description="Caller id the CTI webhook tells the PBX to present on outbound calls "
                                  "({\"action\":\"dial\",…} as Zammad answers); empty: none")

    @field_validator("cti_blocked_callers", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("ami_host", "cti_outbound_caller_id", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """``AMI_HOST=`` (an empty value, as compose files pass an unset variable) means off, as an empty
        secret does (:data:`~priyom_kit.settings.Secret`)."""
        if isinstance(value, str) and not value.strip():
            return None
        return value
