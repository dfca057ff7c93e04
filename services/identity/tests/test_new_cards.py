"""A new sender's card written at once (``priyom_identity.new_cards``): on PostgreSQL one statement for the card,
its person, its identifiers and the contact; on SQLite four. Either way the card reads back as the step-by-step
writes made it, and what identification answers without reading it back is what reading it back says."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine.default import CACHE_HIT
from sqlalchemy.exc import IntegrityError

from priyom_identity.identify import identify_contact
from priyom_identity.matching import sender_identifiers
from priyom_identity.new_cards import create_provisional_card
from priyom_identity.policy import MatchPolicy
from priyom_identity.reach import reach_of
from priyom_identity.store import client_summary, load_card
from priyom_identity.tables import clients, contact_history, identifiers
from priyom_kit import driver_statements
from priyom_kit.db import Database

from .conftest import contact_event, unique_email

POLICY = MatchPolicy(region="RU")


def statements_of(database: Database) -> list[str]:
    """Every statement the database's engine sends from now on."""
    sent: list[str] = []
    assert database._engine is not None
    event.listen(database._engine.sync_engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_: sent.append(statement))
    return sent


@pytest.mark.parametrize("sender", [
    {"email": "anna@example.ru", "phone": "8 (916) 700-00-01", "name": "Анна Смирнова"},
    {"telegram": "5550001", "name": "Борис"},
    {"phone": "+7 495 123-45-67", "organisation": "ООО «Ромашка»"},
])
async def test_a_new_sender_s_card_is_one_statement_on_postgresql_and_reads_back_as_answered(
        database: Database, sender: dict[str, str]) -> None:
    if "email" in sender:
        sender = {**sender, "email": unique_email()}
    if "telegram" in sender:
        sender = {**sender, "telegram": str(uuid.uuid4().int % 10**9)}
    contact = contact_event(**sender).contact  # type: ignore[arg-type]
    sent = statements_of(database)
    async with database.sessions() as session:
        match = await identify_contact(session, contact, "web", POLICY)
        await session.commit()
    writes = [s for s in sent if s.lstrip().upper().startswith(("INSERT", "WITH", "UPDATE"))]
    postgresql = database.backend == "postgresql"
    assert len(writes) == (1 if postgresql else 4), writes
    # Identification reads the sender's identifiers and nothing of the card it made.
    assert not any("FROM clients" in s and s.lstrip().upper().startswith("SELECT") for s in sent), sent

    async with database.sessions() as session:
        card = await load_card(session, match.client_id)
        summary = await client_summary(session, match.client_id)
        reach = await reach_of(session, match.client_id, match.person_id, prefers=summary.reply_channel)
        history = (await session.execute(select(contact_history).where(
            contact_history.c.client_id == match.client_id))).mappings().all()
        row = (await session.execute(select(clients).where(clients.c.id == match.client_id))).mappings().one()
    assert card is not None and card.provisional
    assert (match.display_name, match.account_manager, match.sla_tier, match.tags, match.contracts) == (
        summary.name, summary.account_manager, summary.sla_tier, list(summary.tags), list(summary.contracts))
    assert match.organisation == summary.organisation == sender.get("organisation")
    assert match.reach == reach
    assert match.first_contact is True
    assert [(h["person_id"], h["contact_id"], h["channel"]) for h in history] == [
        (match.person_id, contact.contact_id, "web")]
    assert row["first_contact_at"] == row["last_contact_at"] == contact.received_at
    wanted = sender_identifiers(contact.sender, POLICY.region, POLICY.email)
    assert sorted((i.kind, i.value) for i in card.identifiers) == sorted((i.kind, i.value) for i in wanted)
    assert {i.person_id for i in card.identifiers} == {match.person_id}


async def test_an_identifier_another_card_took_fails_the_whole_card(database: Database) -> None:
    email = unique_email()
    first = contact_event(email=email).contact
    async with database.sessions() as session:
        await identify_contact(session, first, "web", POLICY)
        await session.commit()
    taken = sender_identifiers(first.sender, POLICY.region, POLICY.email)
    async with database.sessions() as session:
        with pytest.raises(IntegrityError):
            await create_provisional_card(session, kind="person", name="Двойник", person_name=None, new=taken,
                                          verified_by="channel:web", channel="web", contact_id=uuid.uuid4(),
                                          occurred_at=first.received_at)
        await session.rollback()
        assert (await session.execute(select(clients.c.id).where(clients.c.name == "Двойник"))).first() is None
        owners = (await session.execute(select(identifiers.c.client_id).where(
            identifiers.c.value == taken[0].value))).scalars().all()
    assert len(owners) == 1


async def test_the_statement_is_compiled_once_not_per_card(database: Database) -> None:
    # SQLAlchemy compiles a statement again for every execution when it cannot key its cache (a multi-row
    # VALUES cannot be keyed): that cost more than the round trips saved.
    assert database._engine is not None
    hits: list[tuple[str, object]] = []
    event.listen(database._engine.sync_engine, "before_cursor_execute",
                 lambda _c, _cur, statement, _p, context, _m: hits.append(
                     (statement, context.cache_hit if context is not None else None)))
    compiled = []
    for _ in range(3):
        async with database.sessions() as session:
            await identify_contact(session, contact_event(email=unique_email(), phone="+7 916 700-00-02").contact,
                                   "web", POLICY)
            await session.rollback()
        compiled.append(driver_statements.compilations)
    cards = [hit for statement, hit in hits if "contact_history" in statement and "INSERT" in statement]
    assert len(cards) == 3
    if database.backend == "postgresql":  # on the driver, which compiles a statement once (no context)
        assert compiled[1:] == [compiled[0]] * 2 and cards == [None] * 3, (compiled, cards)
    else:
        assert cards[1:] == [CACHE_HIT] * 2, cards
