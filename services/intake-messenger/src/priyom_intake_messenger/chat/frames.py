"""What the widget and the server say to each other over ``/chat/ws``: one JSON object per text frame. Pure.

Visitor → server, in order: ``hello`` (the token the widget kept, if any), ``profile`` (the pre-chat form),
then any number of ``message``, ``rating``, ``typing`` and ``ping``. Every ``message`` and ``rating`` carries
an id the browser made; the server answers ``ack`` with it once the contact is published, so the widget resends
what is not acknowledged (after a reconnect, after the service restarted) under the same id, and the contact is
the same contact.

Server → visitor: ``welcome`` (a new token, the conversation so far, whether agents are online), ``ack``,
``refused`` (with the reason, and ``retry_after`` for a rate limit), ``reply`` (an agent's answer or a notice),
``pong``, ``typing`` (an agent is writing an answer).

``typing`` carries nothing, either way: no text (the widget never sends what is being typed), no name. It is
a signal, not a message: neither acknowledged nor kept (:mod:`.typing_signals`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, TypeAdapter

#: An id the browser made for a message: unguessable enough, and safe in a key.
MessageId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
Short = Annotated[str, StringConstraints(max_length=200, strip_whitespace=True)]


class _Frame(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Hello(_Frame):
    type: Literal["hello"]
    token: Annotated[str, StringConstraints(max_length=100)] | None = None
    lang: Literal["ru", "en"] = "ru"


class Profile(_Frame):
    """The pre-chat form. ``consent`` to the processing of personal data is required to send it at all."""

    type: Literal["profile"] = "profile"
    name: Short | None = None
    email: EmailStr | None = None
    phone: Annotated[str, StringConstraints(max_length=32, pattern=r"^[0-9 +()\-]*$")] | None = None
    consent: Literal[True]


class Upload(_Frame):
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    type: Annotated[str, StringConstraints(max_length=255)] = "application/octet-stream"
    data: str = Field(description="The file's bytes, base64")


class Message(_Frame):
    type: Literal["message"]
    id: MessageId
    text: str = ""
    files: list[Upload] = Field(default_factory=list)


class Rating(_Frame):
    """The visitor's rating of a closed ticket (offered under the closing survey)."""

    type: Literal["rating"]
    id: MessageId
    ticket: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{6,9}$")]
    rating: int = Field(ge=1, le=5)
    comment: Annotated[str, StringConstraints(max_length=1000, strip_whitespace=True)] | None = None


class Ping(_Frame):
    type: Literal["ping"]


class Typing(_Frame):
    """The visitor is typing (the widget sends one every few seconds while they do)."""

    type: Literal["typing"]


VisitorFrame = Annotated[Hello | Profile | Message | Rating | Ping | Typing, Field(discriminator="type")]
read_frame: TypeAdapter[Hello | Profile | Message | Rating | Ping | Typing] = TypeAdapter(VisitorFrame)
