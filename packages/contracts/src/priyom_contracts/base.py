"""The envelope every bus message shares.

Every message names its type and major version (``contact.received.v1``); both travel in the AMQP ``type``
property and at the head of the routing key, so a consumer can bind to one major version while a newer one
is published beside it. Within a major version only optional fields are added, and consumers ignore fields
they do not know (``extra="ignore"``), so an older consumer keeps working while producers move ahead.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any, ClassVar

import pydantic
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

#: A channel is a short lower-case name. It is a string, not an enum, so a new adapter needs no change here.
ChannelName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{1,31}$")]

#: A ticket's registration number as customers quote it: the year, a dash and the gapless number within
#: that year, at least six digits (``2026-000123``). It grows a digit rather than wrapping after 999999.
TicketNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{6,9}$")]

#: The channel's own identity of what arrived (Message-ID, AMI Linkedid, Telegram update id, form key).
IdempotencyKey = Annotated[str, StringConstraints(min_length=1, max_length=512, strip_whitespace=True)]


class EmailStr(pydantic.EmailStr):
    """pydantic's e-mail address (the same checks, the same schema), its answer remembered for the last few
    thousand addresses: an event carrying a contact's address was checked again by every service it passed,
    up to eight times a contact, each time by email_validator's full parse."""

    @classmethod
    def _validate(cls, input_value: str, /) -> str:
        return _checked_email(input_value)


@lru_cache(maxsize=4096)
def _checked_email(value: str) -> str:
    return pydantic.validate_email(value)[1]


def utcnow() -> datetime:
    """Aware UTC now: every timestamp on the bus is aware, never naive."""
    return datetime.now(UTC)


def to_utc(value: datetime) -> datetime:
    """The same instant in UTC: the one normalisation of every aware timestamp, on the bus and in the
    databases (the kit's ``UtcDateTimeColumn`` uses it too)."""
    return value.astimezone(UTC)


#: An aware timestamp, normalised to UTC; a naive one is refused.
UtcDateTime = Annotated[AwareDatetime, AfterValidator(to_utc)]


class Contract(BaseModel):
    """Base of every model that crosses a service boundary: immutable, tolerant of unknown fields."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Event(Contract):
    """A bus message: the envelope fields plus the payload of a subclass.

    ``message_id`` is unique per publish; ``idempotency_key`` stays the same for everything that follows from
    one arrival on a channel, so each consumer can drop a redelivery or a duplicate publish safely.
    ``correlation_id`` ties together all messages caused by one contact (it is the ``contact_id``).
    """

    #: ``<noun>.<verb>``; set by each subclass.
    event_type: ClassVar[str]
    #: The major version of the schema, also set by each subclass.
    major_version: ClassVar[int] = 1
    #: Whether the message may name a person (text, addresses, numbers). Only messages without personal data
    #: are kept in the journal stream, which nothing can erase a single message from.
    carries_personal_data: ClassVar[bool] = True

    schema_version: int = Field(default=1, description="Major version of this message's schema")
    message_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    correlation_id: uuid.UUID
    occurred_at: UtcDateTime = Field(default_factory=utcnow)
    channel: ChannelName
    idempotency_key: IdempotencyKey

    @model_validator(mode="before")
    @classmethod
    def _stamp_version(cls, data: Any) -> Any:
        # A v2 body handed to a v1 model must fail loudly rather than be half-read.
        if isinstance(data, dict):
            data = dict(data)
            version = data.setdefault("schema_version", cls.major_version)
            if version != cls.major_version:
                raise ValueError(f"{cls.type_name()} cannot read schema_version {version}")
        return data

    @classmethod
    def type_name(cls) -> str:
        """The versioned type, e.g. ``contact.received.v1``: the AMQP ``type`` and the routing-key head."""
        return f"{cls.event_type}.v{cls.major_version}"

    @property
    def routing_key(self) -> str:
        """``<type>.v<major>.<channel>``: consumers bind by type and version, and may filter by channel."""
        return f"{self.type_name()}.{self.channel}"
