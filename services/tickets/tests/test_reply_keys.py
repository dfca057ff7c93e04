"""A reply repeated with its Idempotency-Key is stored and sent once (SQLite and PostgreSQL): a double click in
the console, or a retry after a lost answer, must not send the customer the same text twice."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from priyom_contracts import OutboundReply
from priyom_tickets import tables

AGENT = {"Authorization": "Bearer agent-token"}


async def replies_sent(tickets) -> int:
    """The replies on the thread, after checking that exactly these were staged for the bus."""
    async with tickets.database.sessions() as session:
        stored = {r for (r,) in await session.execute(select(tables.ticket_messages.c.reply_id)
                                                      .where(tables.ticket_messages.c.kind == "reply"))}
        staged = [r["payload"]["reply_id"] for r in (await session.execute(select(tables.ticket_outbox))).mappings()
                  if r["event_type"] == OutboundReply.type_name() and not r["payload"].get("automatic")]
    assert sorted(staged) == sorted(str(r) for r in stored)
    return len(stored)


async def test_a_repeated_key_answers_with_the_first_reply_and_sends_nothing_more(tickets, make_routed) -> None:
    number = (await tickets.register(make_routed(channel="email"))).number
    url = f"/api/v1/tickets/{number}/replies"
    body = {"body": "Здравствуйте! Проверяем."}
    first = await tickets.client.post(url, headers={**AGENT, "Idempotency-Key": "k-1"}, json=body)
    assert first.status_code == 202, first.text
    again = await tickets.client.post(url, headers={**AGENT, "Idempotency-Key": "k-1"}, json=body)
    assert again.status_code == 200, again.text
    assert again.json()["reply_id"] == first.json()["reply_id"]
    assert again.json()["channel"] == first.json()["channel"] == "email"
    assert await replies_sent(tickets) == 1

    # Another key is another reply; the same key with another text is refused, not sent.
    other = await tickets.client.post(url, headers={**AGENT, "Idempotency-Key": "k-2"}, json=body)
    assert other.status_code == 202 and other.json()["reply_id"] != first.json()["reply_id"]
    reused = await tickets.client.post(url, headers={**AGENT, "Idempotency-Key": "k-1"},
                                       json={"body": "Другой текст"})
    assert reused.status_code == 422 and "another reply" in reused.text
    # Without a key every request is a reply, as before.
    assert (await tickets.client.post(url, headers=AGENT, json=body)).status_code == 202
    assert await replies_sent(tickets) == 3
    history = (await tickets.client.get(f"/api/v1/tickets/{number}", headers=AGENT)).json()["history"]
    assert [h["action"] for h in history].count("reply") == 3


async def test_concurrent_repeats_make_one_reply(tickets, make_routed) -> None:
    number = (await tickets.register(make_routed(channel="email"))).number
    answers = await asyncio.gather(*(
        tickets.client.post(f"/api/v1/tickets/{number}/replies", headers={**AGENT, "Idempotency-Key": "same"},
                            json={"body": "Один ответ"}) for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 202], [a.text for a in answers]
    assert len({a.json()["reply_id"] for a in answers}) == 1
    assert await replies_sent(tickets) == 1


async def test_a_key_is_per_ticket(tickets, make_routed) -> None:
    one = (await tickets.register(make_routed(channel="email"))).number
    two = (await tickets.register(make_routed(channel="email"))).number
    for number in (one, two):
        sent = await tickets.client.post(f"/api/v1/tickets/{number}/replies",
                                         headers={**AGENT, "Idempotency-Key": "k"}, json={"body": "Да"})
        assert sent.status_code == 202, sent.text
    assert await replies_sent(tickets) == 2
