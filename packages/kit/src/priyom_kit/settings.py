"""Settings shared by every service, read from the environment only.

Shared names (``AMQP_URL``, ``PRIYOM_BUS_PREFIX``, ``PRIYOM_ADMIN_TOKEN``, ``LOG_LEVEL``) are the same for
all services so one ``.env`` configures a whole deployment; each service adds its own fields under its own
prefix (``IDENTITY_PORT``, ``TICKETS_DATABASE_URL``, …) by subclassing :class:`ServiceSettings`, or
:class:`DatabaseSettings` when it owns data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Fields every service has. Subclasses set ``model_config`` with their own ``env_prefix``."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    amqp_url: SecretStr = Field(
        default=SecretStr("amqp://guest:guest@127.0.0.1:5672/"),
        validation_alias="AMQP_URL",
        description="RabbitMQ URL; a secret because it carries the password",
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
    admin_token: SecretStr | None = Field(
        default=None, validation_alias="PRIYOM_ADMIN_TOKEN",
        description="Bearer token with the admin role; without it the authenticated APIs refuse everyone",
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
    host: str = Field(default="127.0.0.1", description="HTTP listen address")
    port: int = Field(default=8000, description="HTTP listen port")


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
