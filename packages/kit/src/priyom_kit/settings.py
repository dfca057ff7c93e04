"""Settings shared by every service, read from the environment only.

Shared names (``AMQP_URL``, ``PRIYOM_BUS_PREFIX``, ``PRIYOM_ADMIN_TOKEN``, ``LOG_LEVEL``) are the same for
all services so one ``.env`` configures a whole deployment; each service adds its own fields under its own
prefix (``IDENTITY_PORT``, ``TICKETS_DATABASE_URL``, …) by subclassing :class:`ServiceSettings`, or
:class:`DatabaseSettings` when it owns data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, AliasChoices, BeforeValidator, Field, SecretStr
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from priyom_kit.secret_files import SecretFilesSource

#: The shortest secret a service accepts for a key or token that guards one of its own doors.
MIN_SECRET_CHARS = 16


def _empty_is_unset(value: object) -> object:
    """``NAME=`` (an empty or blank value, as compose files and ``.env`` templates pass an unset variable)
    means the feature is off: an empty string must never become an HMAC key or a token anyone can send."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _long_enough(value: SecretStr | None) -> SecretStr | None:
    if value is not None and len(value.get_secret_value()) < MIN_SECRET_CHARS:
        # The message names the rule, never the value: settings errors end up in logs.
        raise ValueError(f"a secret must be at least {MIN_SECRET_CHARS} characters (or empty to turn its "
                         "feature off)")
    return value


#: A key or token Priyom checks what arrives against (an HMAC key, a bearer token, a webhook secret): empty
#: means off, shorter than :data:`MIN_SECRET_CHARS` refuses to start, so a guessable one never goes live.
Secret = Annotated[SecretStr | None, BeforeValidator(_empty_is_unset), AfterValidator(_long_enough)]

#: A credential Priyom presents to someone else's server (a mailbox or PBX password, a relay password):
#: empty means off, but its length is that server's rule, not ours, so none is imposed here.
Credential = Annotated[SecretStr | None, BeforeValidator(_empty_is_unset)]


def _windows_parse(value: str) -> str:
    from limits import parse_many  # imported here: most services' settings never need it

    parse_many(value)  # raises ValueError: refused at start, not at the first request counted
    return value


#: Rate-limit windows in the ``limits`` notation, ``;`` between them ("20/minute;200/hour"), checked at start
#: (:mod:`priyom_kit.rate_windows` counts them).
RateWindows = Annotated[str, AfterValidator(_windows_parse)]


def json_object(value: object) -> object:
    """An environment variable's JSON object; empty (``PRIYOM_SERVICE_TOKENS=``) is an empty one. Used as
    ``Annotated[dict[…], NoDecode, BeforeValidator(json_object)]``, since pydantic-settings refuses an empty
    string where it expects JSON."""
    if isinstance(value, str):
        return json.loads(value) if value.strip() else {}
    return value


def _each_long_enough(value: dict[str, SecretStr]) -> dict[str, SecretStr]:
    for token in value.values():
        _long_enough(token)
    return value


#: ``PRIYOM_SERVICE_TOKENS``: each calling service's own credential, by service name.
ServiceTokens = Annotated[dict[str, SecretStr], NoDecode, BeforeValidator(json_object),
                          AfterValidator(_each_long_enough)]


class ServiceSettings(BaseSettings):
    """Fields every service has. Subclasses set ``model_config`` with their own ``env_prefix``.

    Every variable may also be given as a file, ``NAME_FILE=/run/secrets/name`` (:mod:`priyom_kit.secret_files`).
    """

    # hide_input_in_errors: a refused value (a short token, a URL with its password) never reaches the log
    # through the validation error that stops the service. Subclasses' model_config is merged with this one.
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, hide_input_in_errors=True)

    amqp_url: SecretStr = Field(
        default=SecretStr("amqp://guest:guest@127.0.0.1:5672/"),
        validation_alias="AMQP_URL",
        description="RabbitMQ URL, or the URLs of a cluster's nodes separated by commas (each connection starts "
                    "at a random one and moves to the next that answers when its node goes); a secret because it "
                    "carries the password",
    )
    bus_prefix: str = Field(
        default="",
        validation_alias="PRIYOM_BUS_PREFIX",
        description="Prefix of every exchange and queue name: isolates deployments or test runs on one broker",
    )
    prefetch: int = Field(
        default=32, ge=1, le=1000, validation_alias="PRIYOM_PREFETCH",
        description="Unacknowledged messages per consumer, which is also the number of concurrent handlers",
    )
    batch_size: int = Field(
        default=32, ge=1, le=1000, validation_alias="PRIYOM_BATCH_SIZE",
        description="Most deliveries a batching consumer (the contacts of identity, router and tickets; ticket.created "
                    "in identity and router; delivery reports in tickets and identity) handles in one transaction when they arrive together, their publishes "
                    "confirmed together, then each acknowledged; 1 handles each alone",
    )
    max_attempts: int = Field(
        default=5, ge=1, le=50, validation_alias="PRIYOM_MAX_ATTEMPTS",
        description="Deliveries of a failing message before it is dead-lettered",
    )
    retry_delay_ms: int = Field(
        default=1000, ge=1, validation_alias="PRIYOM_RETRY_DELAY_MS",
        description="First retry delay; each further attempt waits twice as long",
    )
    publish_timeout_s: float = Field(
        default=10.0, gt=0, validation_alias="PRIYOM_PUBLISH_TIMEOUT_S",
        description="How long a publish waits for the broker's confirm before failing (503 at the edges)",
    )
    admin_token: Secret = Field(
        default=None, validation_alias="PRIYOM_ADMIN_TOKEN",
        description="Bearer token with the admin role (at least 16 characters); empty: the authenticated APIs "
                    "refuse everyone",
    )
    service_tokens: ServiceTokens = Field(
        default_factory=dict, validation_alias="PRIYOM_SERVICE_TOKENS",
        description='Service credentials, JSON {"tickets": "…", "router": "…"} (each at least 16 characters): a '
                    "service calls the others with its own entry, and each entry is accepted with the service role "
                    "only (cards and internal exports, never admin); empty: services call each other with none",
    )
    staff_url: str | None = Field(
        default=None, validation_alias="PRIYOM_STAFF_URL",
        description="Tickets' address, where the other services check a staff token (GET /api/v1/me); empty: "
                    "they accept only the admin and service tokens",
    )
    staff_cache_s: float = Field(
        default=30.0, ge=0, le=3600, validation_alias="PRIYOM_STAFF_CACHE_S",
        description="How long a checked staff token is trusted before tickets is asked again: a revoked or "
                    "expired token stops working within this time (0: ask every time)",
    )
    blob_dir: Path = Field(
        default=Path("var/blobs"), validation_alias="PRIYOM_BLOB_DIR",
        description="Attachment store shared by the services that read or write attachments",
    )
    blob_s3_bucket: str | None = Field(
        default=None, validation_alias="PRIYOM_BLOB_S3_BUCKET",
        description="Keep attachments in this S3-compatible bucket instead of PRIYOM_BLOB_DIR; credentials "
                    "from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY",
    )
    blob_s3_endpoint: str | None = Field(
        default=None, validation_alias="PRIYOM_BLOB_S3_ENDPOINT",
        description="Endpoint URL of a non-AWS object store (MinIO, Ceph); empty: AWS",
    )
    blob_s3_region: str | None = Field(
        default=None, validation_alias="PRIYOM_BLOB_S3_REGION", description="The bucket's region")
    blob_s3_prefix: str = Field(
        default="blobs/", validation_alias="PRIYOM_BLOB_S3_PREFIX",
        description="Key prefix of the attachment objects in the bucket")
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")
    log_json: bool = Field(default=False, validation_alias="LOG_JSON", description="JSON log lines")
    otlp_endpoint: Annotated[str | None, BeforeValidator(_empty_is_unset)] = Field(
        default=None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT",
        description="OpenTelemetry collector's OTLP/HTTP base URL (traces go to <url>/v1/traces); empty: no "
                    "tracing, at no cost (docs/observability.md)",
    )
    otel_service_name: Annotated[str | None, BeforeValidator(_empty_is_unset)] = Field(
        default=None, validation_alias="OTEL_SERVICE_NAME",
        description="Service name on the spans; empty: the service's own (intake-web, identity, …)",
    )
    host: str = Field(default="127.0.0.1", description="HTTP listen address")
    port: int = Field(default=8000, description="HTTP listen port")

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The environment, then ``NAME_FILE`` files (never both for one name), then pydantic's own."""
        return (init_settings, env_settings, SecretFilesSource(settings_cls), dotenv_settings,
                file_secret_settings)


def database_url_field(env_prefix: str, default: str, description: str) -> Any:
    """The ``database_url`` field of a :class:`DatabaseSettings` subclass: read from ``<env_prefix>DATABASE_URL``,
    else from ``DATABASE_URL`` (one database shared by every service of a small deployment)."""
    return Field(default=SecretStr(default),
                 validation_alias=AliasChoices(f"{env_prefix}DATABASE_URL", "DATABASE_URL"),
                 description=description)


class DatabaseSettings(ServiceSettings):
    """The settings of a service that owns data: the shared fields and its database's URL.

    The URL is a secret, like ``AMQP_URL``, because it may carry the password; the kit's
    :class:`~priyom_kit.db.Database` and :func:`~priyom_kit.db.upgrade_database` take it as it is, so no caller
    unwraps it. Each subclass declares the field again with :func:`database_url_field`, for its own variable
    name and default file.
    """

    database_url: SecretStr = Field(description="SQLAlchemy async URL (sqlite+aiosqlite or postgresql+asyncpg)")
