"""Tickets follow identity's card merges (``client.changed.v1`` with ``merges``), once per message, and go
back when a merge is undone; on SQLite and PostgreSQL. Without identity configured no card is read."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from priyom_contracts import CardMerge, ClientChange, ClientChanged, TicketCreated, utcnow
from priyom_kit.db import Database, Inbox
from priyom_tickets import card_reach, handlers, tables
from priyom_tickets.agent_card import IdentityCards
from priyom_tickets.arrivals import register_contact
from priyom_tickets.card_merges import MERGED
from priyom_tickets.policy import QUIET

from .conftest import MakeRouted

NO_IDENTITY = IdentityCards(None)
CHANGES = Inbox(tables.inbox, handlers.CLIENT_CHANGES)


def change(kind: ClientChange, *merges: tuple[uuid.UUID, uuid.UUID]) -> ClientChanged:
    key = uuid.uuid4()
    return ClientChanged(correlation_id=key, channel="api", idempotency_key=f"client-changed:{key}", change=kind,
                         client_ids=list(dict.fromkeys(i for m in merges for i in (m[1], m[0]))),
                         merges=[CardMerge(source_id=s, target_id=t) for s, t in merges])


async def register(database: Database, inbox: Inbox, make_routed: MakeRouted, client_id: uuid.UUID) -> str:
    created, _ = await register_contact(database.sessions, inbox, make_routed(client_id=client_id), QUIET)
    assert isinstance(created, TicketCreated)
    return created.number


async def owners(database: Database) -> dict[str, uuid.UUID]:
    async with database.sessions() as session:
        return dict((await session.execute(select(tables.tickets.c.number, tables.tickets.c.client_id))).all())


async def follow(database: Database, event: ClientChanged) -> list[str]:
    return await handlers.on_client_changed(event, sessions=database.sessions, inbox=CHANGES, cards=NO_IDENTITY)


async def test_tickets_follow_a_merge_once_and_an_undo_takes_back_only_what_it_moved(
        database: Database, inbox: Inbox, make_routed: MakeRouted) -> None:
    source, target, bystander = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    first, second = [await register(database, inbox, make_routed, source) for _ in range(2)]
    survivor = await register(database, inbox, make_routed, target)
    unrelated = await register(database, inbox, make_routed, bystander)
    async with database.sessions() as session, session.begin():
        await card_reach.keep(session, source, card_reach.CardReach(emails=("gone@example.ru",)), utcnow())

    merged = change(ClientChange.MERGED, (source, target))
    assert sorted(await follow(database, merged)) == sorted([first, second])
    assert await owners(database) == {first: target, second: target, survivor: target, unrelated: bystander}
    # The bus redelivers: the inbox makes the repeat change nothing, not even a second history line.
    assert await follow(database, merged) == []
    async with database.sessions() as session:
        lines = (await session.execute(select(func.count()).select_from(tables.ticket_history)
                                       .where(tables.ticket_history.c.action == MERGED))).scalar()
        assert lines == 2
        assert await card_reach.load(session, source) is None  # the merged-away card's copy went with it

    later = await register(database, inbox, make_routed, target)  # registered on the survivor after the merge
    assert sorted(await follow(database, change(ClientChange.UNMERGED, (source, target)))) == sorted([first, second])
    assert await owners(database) == {first: source, second: source, survivor: target, unrelated: bystander,
                                      later: target}


async def test_a_chain_of_merges_unwinds_one_undo_at_a_time(database: Database, inbox: Inbox,
                                                           make_routed: MakeRouted) -> None:
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    of_a, of_b = await register(database, inbox, make_routed, a), await register(database, inbox, make_routed, b)
    await follow(database, change(ClientChange.MERGED, (a, b)))
    await follow(database, change(ClientChange.MERGED, (b, c)))
    assert await owners(database) == {of_a: c, of_b: c}
    await follow(database, change(ClientChange.UNMERGED, (b, c)))
    assert await owners(database) == {of_a: b, of_b: b}
    await follow(database, change(ClientChange.UNMERGED, (a, b)))
    assert await owners(database) == {of_a: a, of_b: b}


async def test_an_identification_that_absorbed_a_card_moves_its_tickets_too(
        database: Database, inbox: Inbox, make_routed: MakeRouted) -> None:
    messenger_card, phone_card = uuid.uuid4(), uuid.uuid4()
    number = await register(database, inbox, make_routed, messenger_card)
    assert await follow(database, change(ClientChange.IDENTIFIED, (messenger_card, phone_card))) == [number]
    assert (await owners(database))[number] == phone_card


def test_a_message_without_merges_still_reads_as_before() -> None:
    """The field is optional within v1: an older identity's message (no ``merges``) is still valid."""
    old = ClientChanged.model_validate({"correlation_id": str(uuid.uuid4()), "channel": "api",
                                        "idempotency_key": "client-changed:old", "change": "merged",
                                        "client_ids": [str(uuid.uuid4()), str(uuid.uuid4())]})
    assert old.merges == []


async def test_an_erased_or_deleted_card_loses_its_copy_of_addresses(database: Database) -> None:
    erased, deleted, edited = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with database.sessions() as session, session.begin():
        for client_id in (erased, deleted, edited):
            await card_reach.keep(session, client_id, card_reach.CardReach(emails=("x@example.ru",)), utcnow())
    for kind, client_id in ((ClientChange.ERASED, erased), (ClientChange.DELETED, deleted)):
        key = uuid.uuid4()
        await follow(database, ClientChanged(correlation_id=key, channel="api", idempotency_key=f"client-changed:{key}",
                                             change=kind, client_ids=[client_id]))
    async with database.sessions() as session:
        assert await card_reach.load(session, erased) is None and await card_reach.load(session, deleted) is None
        assert await card_reach.load(session, edited) is not None
