"""A valid submission becomes a ``ContactReceived``. Pure: no HTTP, no broker, no clock of its own.

Idempotency. A client may send an ``Idempotency-Key`` header; the event's key is then ``web:<header>`` and
the contact id is derived from it (:func:`~priyom_contracts.contact_id_for`), so a retried POST (after a 503, a timeout, a double click)
gets the same ``contact_id`` from any instance of this service, after a restart too, with no state kept
here. The retry is published again (with a new ``message_id``); identity drops it by its idempotency key.
Without the header every POST is a new contact: ``contact_id`` is a uuid4 and the key is ``web:<contact_id>``.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from priyom_contracts import AttachmentRef, Contact, ContactReceived, Sender, contact_id_for

from .form import ContactForm

CHANNEL = "web"
#: Fixed namespace of web-form contact ids derived from idempotency keys (never change it): the form's ids
#: predate the namespace the other channels share.
WEB_FORM_CONTACT_ID_NAMESPACE = uuid.UUID("7d1c6f0e-3b7a-5c1e-9a55-2f0b8c1d9e41")
#: Printable ASCII without spaces, like the keys clients generate (UUIDs, ULIDs, hashes).
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


class BadIdempotencyKey(ValueError):
    """The header is present but unusable."""


def identify(idempotency_header: str | None) -> tuple[uuid.UUID, str]:
    """``(contact_id, idempotency_key)`` for one submission (see the module docstring)."""
    if idempotency_header is None:
        contact_id = uuid.uuid4()
        return contact_id, f"{CHANNEL}:{contact_id}"
    header = idempotency_header.strip()
    if not _KEY.match(header):
        raise BadIdempotencyKey("Idempotency-Key must be 1-200 printable ASCII characters without spaces")
    key = f"{CHANNEL}:{header}"
    return contact_id_for(key, namespace=WEB_FORM_CONTACT_ID_NAMESPACE), key


def contact_received(form: ContactForm, attachments: list[AttachmentRef], *, contact_id: uuid.UUID,
                     idempotency_key: str, received_at: datetime) -> ContactReceived:
    """The event for one submission; the sender's phone stays as typed (identity normalises it)."""
    return ContactReceived(
        correlation_id=contact_id,
        channel=CHANNEL,
        idempotency_key=idempotency_key,
        contact=Contact(
            contact_id=contact_id,
            received_at=received_at,
            sender=Sender(name=form.name, email=form.email, phone=form.phone, organisation=form.company),
            subject=form.subject,
            body=form.message,
            attachments=attachments,
        ),
    )
