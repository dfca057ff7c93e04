"""Routed contacts registered in batches (one transaction each, as the service does under load) become what they
become one at a time: a follow-up in the same batch joins the ticket the batch just opened, a repeat in the
same batch is announced again instead of opening a second ticket, and every ticket is numbered once."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from priyom_contracts import ThreadHint, TicketCreated
from priyom_tickets import tables
from priyom_tickets.arrivals import Appended, register_contacts


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
