"""Notices and replies route around an address identity flagged undeliverable (the copy in ``card_reach``),
on SQLite and PostgreSQL: another e-mail of the card, else its messenger, else the ticket says the customer
was not told, and an agent's reply with no way left is refused with the reason."""

from __future__ import annotations

import uuid

from sqlalchemy import event as engine_events
from sqlalchemy import select

from priyom_contracts import OutboundReply, Sender, TicketCreated, utcnow
from priyom_tickets import card_reach, tables
from priyom_tickets.arrivals import register_contacts
from priyom_tickets.card_reach import CardReach

from .conftest import MakeRouted, Tickets

AGENT = {"Authorization": "Bearer agent-token"}
DEAD = {"ivan@example.ru": "550 5.1.1 mailbox unknown"}


async def flag(tickets: Tickets, client_id: uuid.UUID, reach: CardReach) -> None:
    """What tickets keeps after identity announced the flag (card_changes.py reads the card over HTTP)."""
    async with tickets.database.sessions() as session, session.begin():
        await card_reach.keep(session, client_id, reach, utcnow())


async def replies_of(tickets: Tickets, number: str) -> list[OutboundReply]:
    async with tickets.database.sessions() as session:
        rows = await session.execute(select(tables.ticket_outbox.c.payload).where(
            tables.ticket_outbox.c.event_type == "reply.outbound.v1").order_by(tables.ticket_outbox.c.id))
        return [r for r in (OutboundReply.model_validate(p) for p in rows.scalars()) if r.ticket_number == number]


async def accept(tickets: Tickets, number: str) -> dict:
    moved = await tickets.client.post(f"/api/v1/tickets/{number}/transitions", headers=AGENT,
                                      json={"action": "accept"})
    assert moved.status_code == 200, moved.text
    return (await tickets.client.get(f"/api/v1/tickets/{number}", headers=AGENT)).json()


async def test_a_notice_goes_to_another_address_of_the_card(tickets: Tickets, make_routed: MakeRouted) -> None:
    client_id = uuid.uuid4()
    created = await tickets.register(make_routed(channel="email", client_id=client_id,
                                                 sender=Sender(name="Иван", email="ivan@example.ru")))
    await flag(tickets, client_id, CardReach(undeliverable=DEAD, emails=("ivan.work@example.ru",)))
    await accept(tickets, created.number)
    registration, status = await replies_of(tickets, created.number)
    assert registration.recipient.email == "ivan@example.ru"  # before the flag
    assert (status.channel, status.recipient.email) == ("email", "ivan.work@example.ru")

    path = (await tickets.client.get(f"/api/v1/tickets/{created.number}/reply-path", headers=AGENT)).json()
    assert path["address"] == "ivan.work@example.ru" and "ivan@example.ru" in path["warning"]
    sent = await tickets.client.post(f"/api/v1/tickets/{created.number}/replies", headers=AGENT,
                                     json={"body": "Ответили на рабочий адрес"})
    assert sent.status_code == 202, sent.text
    assert "ivan@example.ru: 550 5.1.1 mailbox unknown" in sent.json()["warning"]


async def test_without_an_email_the_cards_telegram_carries_the_notice(tickets: Tickets,
                                                                       make_routed: MakeRouted) -> None:
    client_id = uuid.uuid4()
    created = await tickets.register(make_routed(channel="email", client_id=client_id,
                                                 sender=Sender(name="Иван", email="ivan@example.ru")))
    await flag(tickets, client_id, CardReach(undeliverable=DEAD,
                                             messengers=({"channel": "telegram", "user_id": "4242"},)))
    await accept(tickets, created.number)
    status = (await replies_of(tickets, created.number))[-1]
    assert status.channel == "telegram" and status.recipient.messenger is not None
    assert status.recipient.messenger.user_id == "4242"


async def test_with_no_way_left_the_ticket_says_the_customer_was_not_told(tickets: Tickets,
                                                                           make_routed: MakeRouted) -> None:
    client_id = uuid.uuid4()
    created = await tickets.register(make_routed(channel="email", client_id=client_id,
                                                 sender=Sender(name="Иван", email="ivan@example.ru")))
    await flag(tickets, client_id, CardReach(undeliverable=DEAD))
    after = await accept(tickets, created.number)
    assert len(await replies_of(tickets, created.number)) == 1  # only the registration, sent before the flag
    assert [m["kind"] for m in after["messages"] if m["direction"] == "outbound"] == ["notice"]
    (line,) = [h for h in after["history"] if h["action"] == "not_notified"]
    assert line["details"]["undeliverable"] == DEAD
    assert after["delivery_failed_at"] is not None  # the flag the console shows on the ticket

    path = (await tickets.client.get(f"/api/v1/tickets/{created.number}/reply-path", headers=AGENT)).json()
    assert path["channel"] is None and "550 5.1.1" in path["warning"]
    refused = await tickets.client.post(f"/api/v1/tickets/{created.number}/replies", headers=AGENT,
                                        json={"body": "Ответ в пустоту"})
    assert refused.status_code == 409
    assert "ivan@example.ru" in refused.json()["detail"] and "undeliverable" in refused.json()["detail"]


async def test_a_batch_of_arrivals_reads_the_cards_copies_once_and_each_notice_routes_around(
        tickets: Tickets, make_routed: MakeRouted) -> None:
    flagged, other, unknown = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await flag(tickets, flagged, CardReach(undeliverable=DEAD, emails=("ivan.work@example.ru",)))
    await flag(tickets, other, CardReach(undeliverable={"olga@example.ru": "550 no such user"},
                                         emails=("olga.home@example.ru",)))
    events = [make_routed(channel="email", client_id=client_id, sender=Sender(name=name, email=email))
              for client_id, name, email in ((flagged, "Иван", "ivan@example.ru"),
                                             (other, "Ольга", "olga@example.ru"),
                                             (unknown, "Пётр", "petr@example.ru"),
                                             (flagged, "Иван", "ivan@example.ru"))]
    reads: list[str] = []
    assert tickets.database._engine is not None
    engine_events.listen(tickets.database._engine.sync_engine, "before_cursor_execute",
                         lambda _c, _cur, statement, *_: reads.append(statement))
    outcomes = await register_contacts(tickets.database.sessions, tickets.inbox, events, tickets.policy)
    numbers = [created.number for created, new in outcomes if new and isinstance(created, TicketCreated)]
    assert len(numbers) == 4, outcomes
    assert len([s for s in reads if "FROM card_reach" in s]) == 1, [s for s in reads if "card_reach" in s]
    notices = {number: [r.recipient.email for r in await replies_of(tickets, number)] for number in numbers}
    assert list(notices.values()) == [["ivan.work@example.ru"], ["olga.home@example.ru"], ["petr@example.ru"],
                                      ["ivan.work@example.ru"]]
