"""What a signed-in customer does to a request, as the customer's message on the bus (``contact.received.v1.portal``);
and a new request from the account's form, a message naming no ticket.

The portal changes no ticket itself. A reply, a confirmation, a refusal and a rating are each the customer's
message naming the ticket (``ThreadHint.ticket_number``), from the identifier they proved by code, and take the
way every channel's message takes: identity matches the card, the router passes it on, tickets appends it to
the ticket of that card (a number of another card's ticket opens a ticket of its own, never joins). There
tickets' own rules make the move, so the portal adds none:

* on a resolved ticket (or a proposed action plan) a short confirmation closes it, anything else reopens it
  (tickets' ``customer_word``): the confirm button sends a confirmation, the decline button "not solved: " and
  the customer's reason;
* on a ticket closed within the survey window, "5 — comment" is the survey's answer (tickets' ``satisfaction``).

Pure: builds the event; the route publishes it. The form's random key is the idempotency key, so a form sent
twice (a double click, a reload) is one message.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from priyom_contracts import AttachmentRef, Contact, ContactReceived, ThreadHint, contact_id_for, utcnow

from .sign_in import Identifier

CHANNEL = "portal"
MAX_TEXT = 20_000
MAX_COMMENT = 2_000


class Act(StrEnum):
    REPLY = "reply"
    CONFIRM = "confirm"
    DECLINE = "decline"
    RATE = "rate"


#: The confirmation tickets recognises (a short thanks or "confirmed", no doubt in it).
CONFIRMATION = {"ru": "Подтверждаю: вопрос решён.", "en": "Confirmed: the issue is resolved."}
#: A refusal starts with a negation, so tickets never reads the reason as a confirmation.
REFUSAL = {"ru": "Не решено: {reason}", "en": "Not resolved: {reason}"}


def body_of(act: Act, language: str, *, text: str = "", rating: int | None = None) -> str:
    """The customer's message for ``act`` (``text``: the reply, the reason or the rating's comment)."""
    text = text.strip()
    if act is Act.REPLY:
        return text
    if act is Act.CONFIRM:
        return CONFIRMATION[language]
    if act is Act.DECLINE:
        return REFUSAL[language].format(reason=text)
    assert rating is not None and 1 <= rating <= 5  # noqa: S101 - the route validated it
    return f"{rating} — {text}" if text else str(rating)


def customer_message(number: str, identifier: Identifier, body: str, form_key: uuid.UUID,
                     attachments: list[AttachmentRef] | None = None) -> ContactReceived:
    """The customer's message on ticket ``number``, from the identifier they signed in with (with the files of a
    reply, already in the blob store)."""
    return _contact(identifier, f"[#{number}]", body, form_key, attachments or [], ThreadHint(ticket_number=number))


def new_request_message(identifier: Identifier, subject: str, body: str, form_key: uuid.UUID) -> ContactReceived:
    """A new request from the account's form: a contact naming no ticket, so it opens one as any channel's does."""
    return _contact(identifier, subject or None, body, form_key, [], ThreadHint())


def _contact(identifier: Identifier, subject: str | None, body: str, form_key: uuid.UUID,
             attachments: list[AttachmentRef], thread: ThreadHint) -> ContactReceived:
    key = f"{CHANNEL}:{form_key}"
    contact_id = contact_id_for(key)
    return ContactReceived(
        correlation_id=contact_id,
        channel=CHANNEL,
        idempotency_key=key,
        contact=Contact(
            contact_id=contact_id,
            received_at=utcnow(),
            sender=identifier.sender(),
            subject=subject,
            body=body,
            attachments=attachments,
            thread=thread,
            # Proven: the customer entered the code sent to this very identifier.
            sender_authenticated=True,
        ),
    )
