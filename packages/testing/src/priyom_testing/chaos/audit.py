"""After the run: is every accepted contact in exactly one ticket, and is the dead-letter queue empty?

Read from the tickets service's database (each inbound message with its contact id and text) rather than
from its API, so nothing the API pages or filters can hide a duplicate: a contact with a token is looked
for by its token in the messages' text (found twice is a duplicate), a call by its contact id.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import aio_pika
from sqlalchemy import text

from priyom_contracts import Topology
from priyom_kit.db import make_engine

from .customers import Accepted


@dataclass(frozen=True)
class Findings:
    with_ticket: int
    lost: list[Accepted]
    duplicates: int


async def inbound_messages(tickets_url: str) -> list[tuple[str, str]]:
    """(contact id, text) of every inbound message the tickets service stored."""
    engine = make_engine(tickets_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text(
                "SELECT CAST(contact_id AS TEXT), body FROM ticket_messages WHERE direction = 'inbound'"))
            return [(str(contact_id or ""), body or "") for contact_id, body in rows.all()]
    finally:
        await engine.dispose()


def check(accepted: Sequence[Accepted], messages: Sequence[tuple[str, str]], run: str) -> Findings:
    by_contact = Counter(contact_id for contact_id, _ in messages)
    by_token: Counter[str] = Counter()
    marker = f"chaos-{run}-"
    for _, body in messages:
        start = body.find(marker)
        while start >= 0:
            end = start + len(marker)
            while end < len(body) and (body[end].isalnum() or body[end] == "-"):
                end += 1
            by_token[body[start:end]] += 1
            start = body.find(marker, end)
    found = 0
    lost: list[Accepted] = []
    duplicates = 0
    for contact in accepted:
        times = by_contact[contact.contact_id or ""] if contact.channel == "phone" else by_token[contact.token]
        if times == 0:
            lost.append(contact)
            continue
        found += 1
        duplicates += times - 1
    return Findings(found, lost, duplicates)


async def dead_letters(amqp_url: str, prefix: str, tickets_url: str) -> int:
    """Dead letters of the run: those still in the queue of the run's bus prefix, and those tickets already
    took from it into its database (it drains the queue: the queue alone would show none)."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(Topology(prefix).dead_letter_queue, passive=True)
        waiting = int(queue.declaration_result.message_count or 0)
    engine = make_engine(tickets_url)
    try:
        async with engine.connect() as database:
            kept = (await database.execute(text("SELECT COUNT(*) FROM dead_letters"))).scalar_one()
    finally:
        await engine.dispose()
    return waiting + int(kept)


async def wait_for_tickets(accepted: Sequence[Accepted], tickets_url: str, run: str, timeout_s: float) -> Findings:
    """Poll until every accepted contact has its ticket, or ``timeout_s`` passed; the last findings."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        findings = check(accepted, await inbound_messages(tickets_url), run)
        if not findings.lost or asyncio.get_running_loop().time() > deadline:
            return findings
        await asyncio.sleep(3)
