"""Routed contacts registered in batches (one transaction each, as the service does under load) become what they
become one at a time: a follow-up in the same batch joins the ticket the batch just opened, a repeat in the
same batch is announced again instead of opening a second ticket, and every ticket is numbered once."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from priyom_contracts import DeliveryReported, DeliveryStatus, ThreadHint, TicketCreated
from priyom_kit import PermanentError
from priyom_kit.db import Inbox
from priyom_tickets import handlers, tables
from priyom_tickets.arrivals import Appended, register_contacts

AGENT = {"Authorization": "Bearer agent-token"}


async def test_a_batch_opens_joins_and_repeats_as_one_at_a_time(tickets, make_routed) -> None:
    client = uuid.uuid4()
    chat = ThreadHint(external_thread_id="chat-7")
    opening = make_routed(client_id=client, channel="telegram", thread=chat)
    follow_up = make_routed(client_id=client, channel="telegram", body="Вот скриншот", thread=chat)
    others = [make_routed() for _ in range(3)]
    batch = [opening, follow_up, *others, opening]

    outcomes = await register_contacts(tickets.database.sessions, tickets.inbox, batch, tickets.policy)

    (opened, new), (joined, joined_new), *rest = outcomes
    assert isinstance(opened, TicketCreated) and new
    assert (joined, joined_new) == (Appended(opened.number, str(follow_up.contact.contact_id)), True)
    assert all(isinstance(o, TicketCreated) and n for o, n in rest[:3])
    assert rest[3] == (opened, False), "the repeat is the same ticket, announced again"
    numbers = [opened.number, *(o.number for o, _ in rest[:3])]
    assert len(set(numbers)) == 4
    async with tickets.database.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(tables.tickets))).scalar_one() == 4
        created = [r["payload"]["number"] for r in (await session.execute(tables.ticket_outbox.select())).mappings()
                   if r["event_type"] == TicketCreated.type_name()]
    assert sorted(created) == sorted([*numbers, opened.number]), "each announced, the repeated one twice"


async def test_a_batch_of_delivery_reports_records_each_as_one_at_a_time(tickets, make_routed) -> None:
    """A burst of tickets sends a burst of notices, whose reports come back together: in one transaction, a later
    report of a reply sees the earlier one's, a repeat changes nothing, and an unknown reply fails the batch (each
    report then goes alone, where only that one is dead-lettered)."""
    created = await tickets.register(make_routed(channel="email"))
    replies = []
    for text in ("Первый ответ", "Второй ответ"):
        sent = await tickets.client.post(f"/api/v1/tickets/{created.number}/replies", headers=AGENT,
                                         json={"body": text})
        assert sent.status_code == 202, sent.text
        replies.append(sent.json()["reply_id"])

    def report(reply_id: str, status: DeliveryStatus, key: str | None = None) -> DeliveryReported:
        return DeliveryReported(correlation_id=uuid.uuid4(), channel="email",
                                idempotency_key=key or f"{reply_id}:{status.value}", ticket_number=created.number,
                                reply_id=reply_id, status=status, detail=status.value)

    inbox = Inbox(tables.inbox, handlers.DELIVERIES)
    sessions = tickets.database.sessions
    first, second = replies
    delivered = report(first, DeliveryStatus.DELIVERED)
    outcomes = await handlers.on_deliveries_reported(
        [delivered, report(second, DeliveryStatus.FAILED), report(first, DeliveryStatus.RETRYING), delivered],
        sessions=sessions, inbox=inbox)
    assert outcomes == [True, True, True, False]  # the late "retrying" is recorded, and changes nothing
    assert await handlers.on_deliveries_reported([delivered], sessions=sessions, inbox=inbox) == [False]
    async with sessions() as session:
        states = dict((await session.execute(
            select(tables.ticket_messages.c.reply_id, tables.ticket_messages.c.delivery_status)
            .where(tables.ticket_messages.c.reply_id.is_not(None)))).all())
        ticket = (await session.execute(select(tables.tickets.c.delivery_failed_at)
                                        .where(tables.tickets.c.number == created.number))).scalar_one()
    assert {str(k): v for k, v in states.items() if str(k) in replies} == {first: "delivered", second: "failed"}
    assert ticket is not None  # the failed reply flags the ticket

    stray = report(str(uuid.uuid4()), DeliveryStatus.DELIVERED)
    late = report(second, DeliveryStatus.DELIVERED)
    with pytest.raises(PermanentError):
        await handlers.on_deliveries_reported([late, stray], sessions=sessions, inbox=inbox)
    assert await handlers.on_delivery_reported(late, sessions=sessions, inbox=inbox)  # rolled back: not recorded
    with pytest.raises(PermanentError):
        await handlers.on_delivery_reported(stray, sessions=sessions, inbox=inbox)
