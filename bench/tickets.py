"""Tickets at scale: registrations per second, and list/filter latency with N tickets in PostgreSQL.

Creates a throwaway PostgreSQL database and migrates it, then:

* registers ``--create`` routed contacts through the real registration path (``register_contact``: the
  per-year number counter, the ticket, its first message, the audit line, the inbox record, one commit each),
  ``--concurrency`` at a time, and reports tickets created per second;
* bulk-loads tickets (with one message each) up to ``--n`` in all with ``INSERT … SELECT generate_series``:
  statuses, types, teams, assignees, clients and deadlines spread as a working helpdesk would have them;
* times ``--repeat`` calls of each list query the API runs (``store.list_tickets``: the page and the total),
  unfiltered and by status, type, client, assignee, overdue, number and text, and reports p50/p95/max in ms.

Prints one JSON line. The database is dropped at the end.

    python bench/tickets.py [--n 1000000] [--create 2000] [--concurrency 8] [--repeat 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from datetime import timedelta
from pathlib import Path

import asyncpg

from priyom_contracts import (
    ClientMatch,
    Contact,
    ContactRouted,
    ContactType,
    MatchKind,
    Routing,
    Sender,
    TicketStatus,
    utcnow,
)
from priyom_kit.db import Database, Inbox
from priyom_kit.pytest_plugin import create_pg_database, drop_pg_database
from priyom_tickets import handlers, store, tables
from priyom_tickets.arrivals import register_contact

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = 50_000
STATUSES = ["new", "accepted", "open", "pending", "resolved", "closed", "closed", "closed", "closed", "cancelled"]
TYPES = [t.value for t in ContactType]


def routed(i: int, client_id: uuid.UUID) -> ContactRouted:
    contact_id = uuid.uuid4()
    now = utcnow()
    return ContactRouted(
        correlation_id=contact_id, channel="web", idempotency_key=f"bench-{i}-{contact_id}",
        contact=Contact(contact_id=contact_id, received_at=now, subject=f"Обращение {i}",
                        body="Не работает выгрузка отчётов после обновления", sender=Sender(name="Bench")),
        client=ClientMatch(client_id=client_id, first_contact=False, match=MatchKind.EXACT_EMAIL),
        routing=Routing(type=ContactType.SERVICE_REQUEST, category="service", team="service",
                        reason="bench", first_response_due_at=now + timedelta(hours=4),
                        resolution_due_at=now + timedelta(days=3)),
    )


async def measure_creation(database: Database, count: int, concurrency: int) -> float:
    inbox = Inbox(tables.inbox, handlers.CONSUMER)
    clients = [uuid.uuid4() for _ in range(100)]
    events = [routed(i, clients[i % len(clients)]) for i in range(count)]
    queue: asyncio.Queue[ContactRouted] = asyncio.Queue()
    for event in events:
        queue.put_nowait(event)

    async def worker() -> None:
        while not queue.empty():
            await register_contact(database.sessions, inbox, queue.get_nowait())

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / (time.perf_counter() - started)


BULK_TICKETS = """
INSERT INTO tickets (number, id, contact_id, channel, idempotency_key, client_id, first_contact, type, category,
    urgency, status, team, assignee, subject, routing_reason, first_response_due_at, resolution_due_at,
    created_at, updated_at, status_changed_at, first_responded_at)
SELECT format('%s-%s', 2000 + (g / 900000), lpad((g % 900000 + 1)::text, 6, '0')),
    gen_random_uuid(), gen_random_uuid(), (ARRAY['web','email','telegram','telephony'])[1 + g % 4],
    'bulk-' || g, ($2::uuid[])[1 + g % $6], g % 7 = 0,
    ($3::text[])[1 + g % 4], 'service', 'normal', ($4::text[])[1 + (g / 7) % 10],
    (ARRAY['service','sales','quality'])[1 + g % 3], 'agent-' || (g % 40),
    'Обращение ' || g || CASE WHEN g % 1000 = 0 THEN ' калибровка датчика' ELSE ' выгрузка отчётов' END,
    'bench', now() - interval '1 hour' * (g % 200), now() + interval '1 hour' * (g % 500 - 20),
    now() - interval '1 minute' * ($1 - g), now(), now(), CASE WHEN g % 3 = 0 THEN NULL ELSE now() END
FROM generate_series($5::int, $1 - 1) AS g
"""


async def bulk_load(url: str, total: int) -> float:
    """Top the database up to ``total`` tickets (and one message each); returns the seconds it took."""
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        existing = await connection.fetchval("SELECT count(*) FROM tickets")
        clients = [uuid.uuid4() for _ in range(CLIENTS)]
        started = time.perf_counter()
        await connection.execute(BULK_TICKETS, total + existing, clients, TYPES, STATUSES, existing, CLIENTS)
        await connection.execute("""
            INSERT INTO ticket_messages (id, ticket_seq, direction, channel, body, created_at)
            SELECT gen_random_uuid(), seq, 'inbound', channel,
                   CASE WHEN seq % 1000 = 1 THEN 'просьба заменить фильтр' ELSE 'прошу проверить отчёт' END,
                   created_at
            FROM tickets WHERE routing_reason = 'bench'
        """)
        await connection.execute("ANALYZE")
        return time.perf_counter() - started
    finally:
        await connection.close()


async def measure_lists(database: Database, repeat: int) -> dict[str, dict[str, float]]:
    async with database.sessions() as session:
        sample = (await store.list_tickets(session, store.TicketFilter(), limit=1, offset=5000))[0][0]
    now = utcnow()
    cases = {
        "all": store.TicketFilter(),
        "status=open": store.TicketFilter(status=TicketStatus.OPEN),
        "type=complaint": store.TicketFilter(type=ContactType.COMPLAINT),
        "client_id": store.TicketFilter(client_id=sample["client_id"]),
        "assignee": store.TicketFilter(assignee=sample["assignee"]),
        "assignee+status": store.TicketFilter(assignee=sample["assignee"], status=TicketStatus.OPEN),
        "overdue": store.TicketFilter(overdue=True, now=now),
        "q=number": store.TicketFilter(q=sample["number"]),
        "q=text(rare)": store.TicketFilter(q="калибровка"),
        "q=text(in messages)": store.TicketFilter(q="заменить фильтр"),
        "offset=10000": store.TicketFilter(),
    }
    results: dict[str, dict[str, float]] = {}
    for name, where in cases.items():
        timings = []
        for _ in range(repeat):
            async with database.sessions() as session:
                started = time.perf_counter()
                rows, total = await store.list_tickets(session, where, limit=50,
                                                       offset=10000 if name == "offset=10000" else 0)
                timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        results[name] = {"p50_ms": round(statistics.median(timings), 1),
                         "p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 1),
                         "max_ms": round(timings[-1], 1), "total": total, "page": len(rows)}
    return results


async def main(args: argparse.Namespace) -> dict[str, object]:
    url = await create_pg_database()
    try:
        await asyncio.to_thread(tables.migrate_database, url)
        database = Database(url)
        await database.open()
        try:
            created_per_s = await measure_creation(database, args.create, args.concurrency)
            load_s = await bulk_load(url, args.n - args.create)
            lists = await measure_lists(database, args.repeat)
        finally:
            await database.close()
    finally:
        await drop_pg_database(url)
    return {"tickets": args.n, "created_per_s": round(created_per_s, 1), "create_concurrency": args.concurrency,
            "bulk_load_s": round(load_s, 1), "list_latency": lists}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="tickets in the database (default 1,000,000)")
    parser.add_argument("--create", type=int, default=2000, help="tickets registered through the real path")
    parser.add_argument("--concurrency", type=int, default=8, help="registrations in flight")
    parser.add_argument("--repeat", type=int, default=20, help="calls of each list query")
    print(json.dumps(asyncio.run(main(parser.parse_args())), ensure_ascii=False))
