"""An answer to mail we delivered proves its sender's address; a forged From without it stays a claim.
Against the real databases (SQLite and PostgreSQL), with the events intake-email publishes."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from priyom_contracts import (
    Contact,
    ContactIdentified,
    ContactReceived,
    DeliveryReported,
    DeliveryStatus,
    Sender,
    ThreadHint,
    utcnow,
)
from priyom_identity.handlers import identify_recorded, on_delivery_reported
from priyom_identity.policy import MatchPolicy
from priyom_identity.tables import identifiers, inbox
from priyom_kit.db import Database, Inbox

from .conftest import contact_event, unique_email

POLICY = MatchPolicy(region="RU")


def delivered(email: str, message_id: str) -> DeliveryReported:
    reply_id = uuid.uuid4()
    return DeliveryReported(
        correlation_id=uuid.uuid4(), channel="email", idempotency_key=f"{reply_id}:delivered",
        occurred_at=utcnow(), ticket_number="2026-000123", reply_id=reply_id, status=DeliveryStatus.DELIVERED,
        external_message_id=message_id, recipient_email=email)


def mail_from(email: str, *, in_reply_to: str | None = None, references: list[str] | None = None) -> ContactReceived:
    contact_id = uuid.uuid4()
    return ContactReceived(correlation_id=contact_id, channel="email", idempotency_key=f"email:{contact_id}",
                           contact=Contact(contact_id=contact_id, received_at=utcnow(), sender=Sender(email=email),
                                           body="Спасибо, но вопрос остался",
                                           thread=ThreadHint(in_reply_to=in_reply_to, references=references or [])))


async def identify(database: Database, event: ContactReceived) -> ContactIdentified:
    return await identify_recorded(event, sessions=database.sessions, inbox=Inbox(inbox, "test"), policy=POLICY)


async def verified(database: Database, email: str) -> bool:
    async with database.sessions() as session:
        return (await session.execute(select(identifiers.c.verified).where(identifiers.c.value == email))).scalar_one()


async def test_an_answer_to_our_mail_proves_the_address_a_forged_from_does_not(database: Database) -> None:
    email = unique_email()
    form = await identify(database, contact_event(email=email, channel="web"))
    assert await verified(database, email) is False
    ours = f"reply.{uuid.uuid4()}@support.example"
    await on_delivery_reported(delivered(email, ours), sessions=database.sessions, policy=POLICY)

    forged = await identify(database, mail_from(email, in_reply_to=f"reply.{uuid.uuid4()}@support.example"))
    assert forged.client.client_id == form.client.client_id and await verified(database, email) is False
    elsewhere = await identify(database, mail_from(unique_email(), in_reply_to=ours))
    assert elsewhere.client.client_id != form.client.client_id, "the Message-ID proves only its recipient"

    answer = await identify(database, mail_from(email.upper(), references=["x@customer.example", f"<{ours}>"]))
    assert answer.client.client_id == form.client.client_id
    assert await verified(database, email) is True
    async with database.sessions() as session:
        by = (await session.execute(select(identifiers.c.verified_by).where(identifiers.c.value == email))).scalar_one()
    assert by == "reply:email"
