"""Identification against the real databases (SQLite and PostgreSQL), migrated by the service's Alembic."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from priyom_contracts import ContactIdentified, MatchKind, utcnow
from priyom_identity.cards import NewClient, NewPerson
from priyom_identity.handlers import identify_recorded
from priyom_identity.identify import IdentifierTaken, identify_contact, register_card
from priyom_identity.matching import NoUsableIdentifier, sender_identifiers
from priyom_identity.policy import MatchPolicy
from priyom_identity.store import VERSION_TABLE, load_card, update_client
from priyom_identity.tables import clients, contact_history, identifiers, inbox, metadata
from priyom_identity.undeliverable import flag_undeliverable
from priyom_kit.db import Database, Inbox

from .conftest import contact_event, unique_email

POLICY = MatchPolicy(region="RU")


async def identify(database: Database, **sender: object) -> ContactIdentified:
    event = contact_event(**sender)  # type: ignore[arg-type]
    return await identify_recorded(event, sessions=database.sessions, inbox=Inbox(inbox, "test"),
                                   policy=POLICY)


async def count(database: Database, table, *where) -> int:
    async with database.sessions() as session:
        return (await session.execute(select(func.count()).select_from(table).where(*where))).scalar_one()


async def test_migrations_build_exactly_the_declared_schema(database: Database) -> None:
    def diff(connection):
        context = MigrationContext.configure(connection, opts={
            # The trigram index exists on PostgreSQL only (migration 0004), so it is not in the metadata.
            "compare_type": True,
            "include_name": lambda name, kind, _: name != VERSION_TABLE and not (name or "").endswith("_trgm")})
        return compare_metadata(context, metadata)

    assert database._engine is not None
    async with database._engine.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_first_contact_creates_a_provisional_card(database: Database) -> None:
    email = unique_email()
    result = await identify(database, email=email, phone="8 (916) 700-00-01", name="Анна Смирнова")
    client = result.client
    assert client.first_contact is True and client.match is MatchKind.NEW
    assert client.display_name == "Анна Смирнова" and client.sla_tier == "standard"
    async with database.sessions() as session:
        card = await load_card(session, client.client_id)
    assert card is not None and card.provisional and card.kind == "person"
    assert card.first_contact_at == card.last_contact_at == result.contact.received_at
    assert [p.full_name for p in card.persons] == ["Анна Смирнова"]
    assert {(i.kind, i.value, i.person_id) for i in card.identifiers} == {
        ("phone", "+79167000001", client.person_id), ("email", email, client.person_id)}
    assert await count(database, contact_history, contact_history.c.client_id == client.client_id) == 1


async def test_returning_client_is_recognised_across_spellings(database: Database) -> None:
    local = unique_email().split("@")[0]
    first = await identify(database, email=f"{local}@example.ru", phone="+7 916 700 00 02")
    second = await identify(database, email=f"{local.upper()}@EXAMPLE.RU", phone="8 (916) 700-00-02")
    third = await identify(database, phone="89167000002")
    assert second.client.client_id == third.client.client_id == first.client.client_id
    assert second.client.first_contact is False and second.client.match is MatchKind.EXACT_PHONE
    assert third.client.person_id == first.client.person_id
    assert await count(database, clients) == 1
    assert await count(database, contact_history) == 3


async def test_new_identifiers_join_the_matched_person(database: Database) -> None:
    email = unique_email()
    first = await identify(database, email=email)
    second = await identify(database, email=email.upper(), phone="+7 916 700-00-03",
                            telegram="700000003")
    assert second.client.client_id == first.client.client_id and second.client.match is MatchKind.EXACT_EMAIL
    async with database.sessions() as session:
        card = await load_card(session, first.client.client_id)
    assert card is not None
    assert {(i.kind, i.value) for i in card.identifiers} == {
        ("email", email), ("phone", "+79167000003"), ("messenger:telegram", "700000003")}
    assert {i.person_id for i in card.identifiers} == {first.client.person_id}
    third = await identify(database, telegram="700000003")
    assert third.client.match is MatchKind.MESSENGER_ID and third.client.client_id == first.client.client_id


async def test_identifiers_of_two_cards_link_to_the_strongest(database: Database) -> None:
    by_email = await identify(database, email=unique_email())
    by_phone = await identify(database, phone="+7 916 700-00-04")
    both = await identify(database, email=by_email.contact.sender.email, phone="8 916 700 00 04")
    assert both.client.client_id == by_phone.client.client_id
    assert both.client.match is MatchKind.EXACT_PHONE
    assert both.client.possible_duplicates == [by_email.client.client_id]
    assert await count(database, identifiers, identifiers.c.client_id == by_phone.client.client_id) == 1


async def test_last_contact_never_moves_back(database: Database) -> None:
    email = unique_email()
    now = utcnow()
    first = await identify(database, email=email, received_at=now)
    await identify(database, email=email, received_at=now - timedelta(hours=1))  # delivered late
    async with database.sessions() as session:
        card = await load_card(session, first.client.client_id)
    assert card is not None and card.last_contact_at == now


async def test_concurrent_first_contacts_from_one_new_email_make_one_card(database: Database) -> None:
    email = unique_email()
    results = await asyncio.gather(*(identify(database, email=email.upper() if n % 2 else email,
                                              name=f"Гость {n}") for n in range(6)))
    assert len({r.client.client_id for r in results}) == 1
    assert sum(r.client.first_contact for r in results) == 1
    assert await count(database, clients) == 1
    assert await count(database, contact_history) == 6


async def test_same_idempotency_key_gives_the_recorded_outcome(database: Database) -> None:
    event = contact_event(email=unique_email(), key="web:dup-1")
    box = Inbox(inbox, "test")
    once, again = [await identify_recorded(event, sessions=database.sessions, inbox=box, policy=POLICY)
                   for _ in range(2)]
    assert again == once, "a redelivery republishes the very same message, message_id included"
    assert await count(database, contact_history) == 1
    racing = contact_event(email=unique_email(), key="web:dup-2")
    both = await asyncio.gather(*(identify_recorded(racing, sessions=database.sessions, inbox=box,
                                                    policy=POLICY) for _ in range(4)))
    assert len({b.message_id for b in both}) == 1
    assert await count(database, clients) == 2


async def test_sender_without_identifier_is_filed_on_the_unknown_sender_card(database: Database) -> None:
    """A mail with no usable address anywhere was accepted by its channel: it must still reach a ticket."""
    async with database.sessions() as session, session.begin():
        first = await identify_contact(session, contact_event(name="Аноним").contact, "email", POLICY)
        second = await identify_contact(session, contact_event(phone="101").contact, "phone", POLICY)
    assert first.match is MatchKind.UNKNOWN_SENDER and not first.first_contact
    assert first.display_name == "Неизвестный отправитель" and "unknown-sender" in first.tags
    assert second.client_id == first.client_id, "one shared card, not one per anonymous contact"
    assert await count(database, contact_history) >= 2
    with pytest.raises(NoUsableIdentifier):  # the pure step still says why no identifier was usable
        sender_identifiers(contact_event(phone="101").contact.sender, POLICY.region, POLICY.email)


async def test_identification_says_where_the_client_can_be_answered(database: Database) -> None:
    """ClientMatch.reach: the writer's own e-mail before the company's, no bounced address, the preference."""
    own, office, bounced = unique_email(), unique_email(), unique_email()
    new = NewClient(name="ООО Вектор", emails=[office], phones=["+7 495 700-00-15"],
                    persons=[NewPerson(full_name="Нина", phones=["+79167000015"], emails=[own, bounced])])
    async with database.sessions() as session, session.begin():
        client_id = await register_card(session, new, POLICY)
        await flag_undeliverable(session, [bounced], reason="bounce", at=utcnow(), rules=POLICY.email)
    by_phone = await identify(database, phone="+7 916 700-00-15")
    assert by_phone.client.client_id == client_id
    assert (by_phone.client.reach.email, by_phone.client.reach.phone) == (own, "+79167000015")
    assert by_phone.client.reach.prefers is None
    async with database.sessions() as session, session.begin():
        await update_client(session, client_id, {"reply_channel": "telegram"})
    again = await identify(database, phone="+7 916 700-00-15")
    assert again.client.reach.prefers == "telegram"
    company = await identify(database, phone="+7 495 700-00-15")
    assert company.client.reach.email in (own, office)


async def test_registered_card_is_matched_with_its_account_manager(database: Database) -> None:
    email = unique_email()
    new = NewClient(name="ООО Ромашка", sla_tier="premium", account_manager="Иванова",
                    phones=["+7 495 700-00-05"],
                    persons=[NewPerson(full_name="Пётр Сидоров", position="бухгалтер",
                                       phones=["8 916 700 00 05", "+79167000005"], emails=[email])])
    async with database.sessions() as session, session.begin():
        client_id = await register_card(session, new, POLICY)
    result = await identify(database, phone="8 (495) 700-00-05 доб. 12")
    assert result.client.client_id == client_id and result.client.first_contact is False
    assert (result.client.account_manager, result.client.sla_tier) == ("Иванова", "premium")
    async with database.sessions() as session:
        card = await load_card(session, client_id)
    assert card is not None and not card.provisional
    assert len(card.identifiers) == 3, "a number typed twice is one identifier"
    by_person = await identify(database, email=email.upper())
    assert by_person.client.person_id == card.persons[0].id
    async with database.sessions() as session, session.begin():
        with pytest.raises(IdentifierTaken):
            await register_card(session, NewClient(name="Другая", emails=[email]), POLICY)
