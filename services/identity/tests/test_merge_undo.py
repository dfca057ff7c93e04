"""Undoing a merge on the real databases (SQLite and PostgreSQL): the card comes back under its old id with its
persons, identifiers, contracts and history; what happened since stays; erasure takes the undo away."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from priyom_contracts import ServiceContract, utcnow
from priyom_identity.cards import NewClient, NewPerson
from priyom_identity.erasure import erase_person
from priyom_identity.handlers import identify_recorded
from priyom_identity.identify import register_card
from priyom_identity.merging import CardGone, NothingToUndo, merge_cards, undo_merge
from priyom_identity.policy import MatchPolicy
from priyom_identity.store import load_card, update_client
from priyom_identity.tables import card_audit, card_merges, inbox
from priyom_kit.db import Database, Inbox

from .conftest import contact_event, unique_email

POLICY = MatchPolicy(region="RU")


async def register(database: Database, new: NewClient) -> uuid.UUID:
    async with database.sessions() as session, session.begin():
        return await register_card(session, new, POLICY)


async def merge(database: Database, target: uuid.UUID, source: uuid.UUID) -> None:
    async with database.sessions() as session, session.begin():
        await merge_cards(session, target=target, source=source, actor="supervisor-1", reason="same client")


async def undo(database: Database, target: uuid.UUID, source: uuid.UUID) -> dict[str, int]:
    async with database.sessions() as session, session.begin():
        return await undo_merge(session, target=target, source=source, actor="supervisor-2")


async def card(database: Database, client_id: uuid.UUID):  # type: ignore[no-untyped-def]
    async with database.sessions() as session:
        return await load_card(session, client_id)


async def test_undo_restores_the_card_its_identifiers_and_the_targets_fields(database: Database) -> None:
    email = unique_email()
    target = await register(database, NewClient(name="ООО Ромашка", tags=["vip"], phones=["+7 916 760-00-01"]))
    source = await register(database, NewClient(
        name="Ромашка (старая карточка)", account_manager="Иванова", legal_id="7701234567", tags=["old"],
        notes="звонить после 10", contracts=[ServiceContract(number="Д-1", valid_from=date(2026, 1, 1))],
        persons=[NewPerson(full_name="Пётр Сидоров", phones=["+7 916 760-00-02"], emails=[email])]))
    seen = contact_event(phone="8 916 760 00 02", received_at=utcnow() - timedelta(days=3))
    await identify_recorded(seen, sessions=database.sessions, inbox=Inbox(inbox, "test"), policy=POLICY)
    before_target, before_source = await card(database, target), await card(database, source)

    await merge(database, target, source)
    merged = await card(database, target)
    assert merged.account_manager == "Иванова" and merged.tags == ["vip", "old"] and len(merged.persons) == 1
    assert await card(database, source) is None

    moved_back = await undo(database, target, source)
    assert moved_back == {"persons": 1, "identifiers": 2, "contracts": 1, "history": 1}
    restored, target_now = await card(database, source), await card(database, target)
    assert restored is not None and target_now is not None
    same = ("name", "kind", "account_manager", "legal_id", "tags", "notes", "sla_tier", "provisional",
            "first_contact_at", "last_contact_at", "created_at", "contracts", "persons", "identifiers")
    assert {f: getattr(restored, f) for f in same} == {f: getattr(before_source, f) for f in same}
    assert {f: getattr(target_now, f) for f in same} == {f: getattr(before_target, f) for f in same}
    again = await identify_recorded(contact_event(email=email.upper()), sessions=database.sessions,
                                    inbox=Inbox(inbox, "test"), policy=POLICY)
    assert again.client.client_id == source, "the restored card's identifiers match it again"
    async with database.sessions() as session:
        (row,) = (await session.execute(select(card_audit).where(card_audit.c.action == "unmerge"))).all()
        assert (row.client_id, row.other_id, row.actor) == (target, source, "supervisor-2")
    with pytest.raises(NothingToUndo):
        await undo(database, target, source)


async def test_what_happened_after_the_merge_stays(database: Database) -> None:
    target = await register(database, NewClient(name="ООО Луг", phones=["+7 916 760-00-03"]))
    source = await register(database, NewClient(name="Луг ООО", persons=[
        NewPerson(full_name="Ольга Лугова", phones=["+7 916 760-00-04"])]))
    await merge(database, target, source)
    async with database.sessions() as session, session.begin():
        await update_client(session, target, {"tags": ["edited-after"]})  # an agent's edit after the merge
    later = await identify_recorded(contact_event(phone="+7 916 760-00-04"), sessions=database.sessions,
                                    inbox=Inbox(inbox, "test"), policy=POLICY)
    assert later.client.client_id == target
    await undo(database, target, source)
    target_now, restored = await card(database, target), await card(database, source)
    assert target_now.tags == ["edited-after"], "an edit made since the merge stands"
    assert [i.value for i in restored.identifiers] == ["+79167600004"]
    assert restored.persons[0].full_name == "Ольга Лугова"


async def test_undo_waits_for_a_later_merge_of_the_target_and_erasure_takes_it_away(database: Database) -> None:
    first = await register(database, NewClient(name="ООО Поле", phones=["+7 916 760-00-05"]))
    second = await register(database, NewClient(name="Поле ООО", persons=[
        NewPerson(full_name="Иван Полев", phones=["+7 916 760-00-06"])]))
    third = await register(database, NewClient(name="ООО Поле-2", phones=["+7 916 760-00-07"]))
    await merge(database, first, second)
    await merge(database, third, first)
    with pytest.raises(CardGone):
        await undo(database, first, second)
    await undo(database, third, first)
    await undo(database, first, second)
    assert (await card(database, second)).persons[0].full_name == "Иван Полев"

    await merge(database, first, second)
    person = (await card(database, first)).persons[0].id
    async with database.sessions() as session, session.begin():
        await erase_person(session, person, actor="dpo")
    async with database.sessions() as session:
        left = (await session.execute(select(card_merges.c.id).where(card_merges.c.undone_at.is_(None)))).all()
    assert left == [], "the snapshot with the erased person's card is gone"
    with pytest.raises(NothingToUndo):
        await undo(database, first, second)
