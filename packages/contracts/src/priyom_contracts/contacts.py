"""What arrives from a customer, and what identity and router add to it on its way to a ticket."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints

from .base import ChannelName, Contract, EmailStr, Event, TicketNumber, UtcDateTime

ShortText = Annotated[str, StringConstraints(max_length=500, strip_whitespace=True)]

#: Fixed namespace of contact ids derived from idempotency keys (never change it): a re-sent update, mail or
#: call gets the same ``contact_id`` in any process, after a restart too, with no state kept by the channel.
CONTACT_ID_NAMESPACE = uuid.UUID("0b5c4f7e-9d0a-5e43-8a41-6c2f1d7e8b90")


def contact_id_for(idempotency_key: str, *, namespace: uuid.UUID = CONTACT_ID_NAMESPACE) -> uuid.UUID:
    """The contact id of what arrived with ``idempotency_key`` (uuid5 of the key): every channel derives it
    here, so what arrives twice is the same contact on the bus, not merely the same key.

    ``namespace`` is for the web form alone, whose ids were derived in a namespace of its own before the
    channels shared this one; changing it would give a retried submission a new id.
    """
    return uuid.uuid5(namespace, idempotency_key)


class MessengerId(Contract):
    """A customer's identity inside one messenger (a Telegram user id, with the username when known)."""

    channel: ChannelName
    user_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    username: ShortText | None = None


class Sender(Contract):
    """Everything the channel told us about who is contacting us, as the channel gave it.

    Phones stay raw here: identity owns normalisation (it knows the tenant's default region), so a
    number is never normalised twice in two different ways.
    """

    name: ShortText | None = None
    email: EmailStr | None = None
    phone: Annotated[str, StringConstraints(max_length=64, strip_whitespace=True)] | None = None
    messenger: MessengerId | None = None
    organisation: ShortText | None = None


class AttachmentRef(Contract):
    """A file that came with a contact. Bytes live in the blob store; the bus carries only this reference."""

    blob_key: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] = Field(
        description="sha256 of the content, the key in the blob store"
    )
    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    content_type: Annotated[str, StringConstraints(max_length=255)] = "application/octet-stream"
    size: int = Field(ge=0)


class ThreadHint(Contract):
    """What the channel knows about the conversation this contact continues (reply headers, chat id)."""

    external_thread_id: Annotated[str, StringConstraints(max_length=512)] | None = None
    in_reply_to: Annotated[str, StringConstraints(max_length=998)] | None = None
    references: list[Annotated[str, StringConstraints(max_length=998)]] = Field(default_factory=list)
    ticket_number: TicketNumber | None = Field(default=None, description="A ticket number the customer quoted")
    message_id: Annotated[str, StringConstraints(max_length=998)] | None = Field(
        default=None, description="The channel's own id of this message (email Message-ID), so later replies "
        "that name it in In-Reply-To or References join the same ticket")
    edits: Annotated[str, StringConstraints(max_length=512)] | None = Field(
        default=None, description="The channel's id of an earlier message this contact corrects (an edit)")


class AutomatedKind(StrEnum):
    """Why a contact was written by a machine, not a person (see :attr:`Contact.automated`)."""

    AUTO_REPLY = "auto_reply"  # out-of-office and other RFC 3834 auto-replies
    BOUNCE = "bounce"  # a delivery status notification: our mail did not arrive
    REPORT = "report"  # abuse/complaint feedback (ARF) and read receipts (MDN)
    LIST = "list"  # mailing-list traffic, when the channel is configured to flag it


class AuthVerdict(StrEnum):
    """One sender-authentication mechanism's result, reduced to what a decision needs."""

    PASS = "pass"
    FAIL = "fail"  # includes SPF softfail and a DKIM signature that does not verify
    NONE = "none"  # not checked, nothing to check, or not conclusive (neutral, temporary error)


class SenderAuthentication(Contract):
    """How far an e-mail's ``From`` is proven (SPF, DKIM, DMARC), and who judged it.

    The channel takes an ``Authentication-Results`` header only from the receiving hosts it trusts (a sender
    can write any such header), else checks what it can itself. ``Contact.sender_authenticated`` is the
    overall verdict derived from these."""

    spf: AuthVerdict = AuthVerdict.NONE
    dkim: AuthVerdict = AuthVerdict.NONE
    dmarc: AuthVerdict = AuthVerdict.NONE
    authority: ShortText | None = Field(
        default=None, description="Who judged: the authserv-id of a trusted Authentication-Results header, or "
        "the channel's own name when it checked the mail itself")


class CallOutcome(StrEnum):
    """How a phone call ended, for the ticket and for call-backs."""

    ANSWERED = "answered"
    MISSED = "missed"  # rang and nobody answered
    ABANDONED = "abandoned"  # the caller hung up while waiting in a queue


class CallDetails(Contract):
    """What the telephony channel knows of a call that became a contact (``Contact.call``).

    Published at hangup, once the duration is known: one contact per call (the PBX's ``Linkedid``), whatever
    transfers happened. A missed or abandoned inbound call has ``call_back`` set: nobody spoke to the caller,
    so the tickets service schedules a call-back activity.
    """

    call_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    direction: Annotated[str, StringConstraints(pattern=r"^(inbound|outbound)$")] = "inbound"
    outcome: CallOutcome
    caller: Annotated[str, StringConstraints(max_length=64)] | None = None
    called: Annotated[str, StringConstraints(max_length=64)] | None = None
    agent: ShortText | None = Field(default=None, description="The extension that had the call last")
    agents: list[ShortText] = Field(default_factory=list, max_length=50,
                                    description="Every extension that answered, in order (transfers)")
    queue: ShortText | None = None
    started_at: UtcDateTime
    answered_at: UtcDateTime | None = None
    ended_at: UtcDateTime
    duration_s: int = Field(default=0, ge=0, description="Talk time: answer to hangup, 0 when unanswered")
    recording: Annotated[str, StringConstraints(max_length=1024)] | None = Field(
        default=None, description="The recording file the PBX reported (MixMonitor or CDR), a path on the PBX")
    call_back: bool = Field(default=False, description="Nobody spoke to the caller: call them back")


class Contact(Contract):
    """One customer contact, normalised to the same shape whatever channel it came from."""

    contact_id: uuid.UUID
    received_at: UtcDateTime
    sender: Sender
    subject: Annotated[str, StringConstraints(max_length=998)] | None = None
    body: Annotated[str, StringConstraints(max_length=100_000)] = ""
    attachments: list[AttachmentRef] = Field(default_factory=list, max_length=50)
    thread: ThreadHint = Field(default_factory=ThreadHint)
    registered_by: ShortText | None = Field(
        default=None, description="The first-line agent who registered the contact (a call, a walk-in)"
    )
    automated: AutomatedKind | None = Field(
        default=None, description="Set when no person wrote this contact: it is attached to the ticket its "
        "thread hint names and never opens a ticket nor gets an automatic answer (loop protection)")
    undeliverable: list[EmailStr] = Field(
        default_factory=list, max_length=50,
        description="Addresses a bounce reports as undeliverable (automated is bounce)")
    call: CallDetails | None = Field(
        default=None, description="Set on telephony contacts: direction, agent, times, recording, outcome")
    unread_reason: Annotated[str, StringConstraints(max_length=500)] | None = Field(
        default=None, description="Why the channel could not read this contact whole (a mail over a parse "
        "limit): the body says so, the original is attached, and the agent is shown this reason")
    sender_authenticated: bool | None = Field(
        default=None, description="E-mail: true when SPF, DKIM or DMARC proves the From domain, false when "
        "they fail it, null when no verdict is available (nothing checked or nothing conclusive). A claim of "
        "a known client's address that is not proven cannot rate, close or reopen a ticket by itself")
    sender_auth: SenderAuthentication | None = Field(
        default=None, description="E-mail: each mechanism's result behind sender_authenticated")


class MatchKind(StrEnum):
    """How identity recognised the sender, strongest first; ``unknown_sender``: the contact gave no identifier
    identity can use (a mail without any address), so it is filed on the shared "unknown sender" card."""

    MESSENGER_ID = "messenger_id"
    EXACT_PHONE = "exact_phone"
    EXACT_EMAIL = "exact_email"
    NEW = "new"
    UNKNOWN_SENDER = "unknown_sender"


class ServiceContract(Contract):
    """A client's contract as identity knows it: the router checks it for service requests."""

    number: ShortText
    service: ShortText | None = None
    valid_from: date | None = None
    valid_to: date | None = None


class Reach(Contract):
    """Where the client can be answered, from their card: the contact person's own identifiers first, then the
    card's. Lets tickets answer a customer who wrote on a channel with no way back (the web form, a phone
    call) by e-mail or messenger, or plan a call-back. Addresses mail no longer reaches are left out."""

    email: EmailStr | None = None
    messenger: MessengerId | None = None
    phone: Annotated[str, StringConstraints(max_length=64)] | None = Field(default=None, description="E.164")
    prefers: ChannelName | None = Field(default=None, description="The channel the card asks answers to go to")


class ClientMatch(Contract):
    """The client card a contact belongs to, as identity found or created it."""

    client_id: uuid.UUID
    person_id: uuid.UUID | None = None
    display_name: ShortText | None = None
    first_contact: bool
    match: MatchKind
    account_manager: ShortText | None = None
    sla_tier: ShortText = "standard"
    possible_duplicates: list[uuid.UUID] = Field(default_factory=list)
    organisation: ShortText | None = None
    tags: list[ShortText] = Field(default_factory=list)
    contracts: list[ServiceContract] = Field(default_factory=list)
    reach: Reach = Field(default_factory=Reach, description="Where the client can be answered, from the card")


class ContactType(StrEnum):
    """What the customer wants: decides the queue and the deadline."""

    COMPLAINT = "complaint"
    INFORMATION_REQUEST = "information_request"
    SERVICE_REQUEST = "service_request"
    PURCHASE_INTEREST = "purchase_interest"


class Urgency(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


class Routing(Contract):
    """The router's decision: what the contact is, who takes it, and by when."""

    type: ContactType
    category: ShortText
    urgency: Urgency = Urgency.NORMAL
    team: ShortText
    assignee: ShortText | None = None
    reason: ShortText = Field(description="Why this assignee: the rule that decided, for the supervisor")
    first_response_due_at: UtcDateTime
    resolution_due_at: UtcDateTime
    priority: int | None = Field(default=None, ge=1, description="1 is the most urgent; from SLA tier and type")
    product: ShortText | None = None
    rule: ShortText | None = Field(default=None, description="The rule that classified the contact")
    trail: list[ShortText] = Field(default_factory=list, description="Why, step by step, for the supervisor")
    rules_version: int | None = Field(default=None, description="Version of the rule book that decided")


class ContactReceived(Event):
    """An adapter registered a contact (``contact.received.v1.<channel>``)."""

    event_type = "contact.received"

    contact: Contact


class ContactIdentified(ContactReceived):
    """Identity matched the contact to a client card (``contact.identified.v1.<channel>``)."""

    event_type = "contact.identified"

    client: ClientMatch


class ContactRouted(ContactIdentified):
    """Router classified and assigned the contact (``contact.routed.v1.<channel>``)."""

    event_type = "contact.routed"

    routing: Routing


class ContactAssigned(Event):
    """A contact that waited in a team queue was given to an agent who freed up
    (``contact.assigned.v1.<channel>``). ``correlation_id`` is the contact's id; the tickets service sets
    the ticket's assignee. ``idempotency_key`` is ``<contact_id>:<assignee>``."""

    event_type = "contact.assigned"
    carries_personal_data: ClassVar[bool] = False

    contact_id: uuid.UUID
    ticket_number: ShortText | None = Field(default=None, description="The ticket, when the router knows it")
    team: ShortText
    assignee: ShortText
    reason: ShortText
