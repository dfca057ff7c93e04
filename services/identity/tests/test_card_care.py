"""Contact sharing, corporate domains, merge and erasure against the real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from priyom_contracts import ClientChanged, ContactIdentified, Event, MatchKind, ServiceContract, utcnow
from priyom_identity.card_changes import CardChanges
from priyom_identity.cards import NewClient, NewPerson
from priyom_identity.erasure import ERASED_NAME, NothingToErase, erase_person
from priyom_identity.handlers import identify_recorded
from priyom_identity.identify import register_card
from priyom_identity.lookup.cache import LookupCache, LookupHit
from priyom_identity.merging import MergeRefused, merge_cards
from priyom_identity.policy import MatchPolicy
from priyom_identity.store import load_card, merged_into
from priyom_identity.tables import card_audit, clients, contact_history, identifiers, inbox
from priyom_kit.db import Database, Inbox

from .conftest import contact_event, unique_email

POLICY = MatchPolicy(region="RU")


async def identify(database: Database, policy: MatchPolicy = POLICY, cache: LookupCache | None = None,
                   announced: list[ClientChanged] | None = None, **sender: object) -> ContactIdentified:
    async def publish(event: Event) -> None:
        assert announced is not None and isinstance(event, ClientChanged)
        announced.append(event)
    changes = CardChanges(cache, publish if announced is not None else None) if cache is not None else None
    return await identify_recorded(contact_event(**sender), sessions=database.sessions,  # type: ignore[arg-type]
                                   inbox=Inbox(inbox, "test"), policy=policy, changes=changes)


async def register(database: Database, new: NewClient) -> uuid.UUID:
    async with database.sessions() as session, session.begin():
        return await register_card(session, new, POLICY)


async def audit(database: Database, action: str) -> list:
    async with database.sessions() as session:
        return (await session.execute(select(card_audit).where(card_audit.c.action == action))).all()


def romashka(email: str, phone: str = "+7 916 710-00-01") -> NewClient:
    return NewClient(
        name="ООО Ромашка", sla_tier="premium", account_manager="Иванова", legal_id="7701234567",
        region="Москва", tags=["vip"], contracts=[
            ServiceContract(number="Д-17/2026", service="обслуживание", valid_from=date(2026, 1, 1),
                            valid_to=date(2026, 12, 31))],
        persons=[NewPerson(full_name="Пётр Сидоров", role="representative", phones=[phone], emails=[email])])


async def test_match_carries_organisation_tags_and_contracts(database: Database) -> None:
    email = f"petr.{uuid.uuid4().hex[:6]}@romashka-{uuid.uuid4().hex[:6]}.ru"
    client_id = await register(database, romashka(email))
    client = (await identify(database, email=email.upper())).client
    assert client.client_id == client_id and client.organisation == "ООО Ромашка"
    assert client.tags == ["vip"] and [c.number for c in client.contracts] == ["Д-17/2026"]
    assert client.contracts[0].valid_to == date(2026, 12, 31)
    provisional = (await identify(database, email=unique_email(), name="Гость")).client
    assert provisional.organisation is None and provisional.contracts == [] and provisional.tags == []
    async with database.sessions() as session:
        card = await load_card(session, provisional.client_id)
    assert card is not None and card.missing_fields == ["region"]
    async with database.sessions() as session:
        full = await load_card(session, client_id)
    assert full is not None and full.missing_fields == [] and full.persons[0].role == "representative"


async def test_telegram_user_sharing_their_phone_is_linked_to_the_card_with_that_phone(database: Database) -> None:
    phone = "+7 916 710-00-02"
    client_id = await register(database, romashka(unique_email(), phone))
    telegram = str(uuid.uuid4().int % 10**9)
    first = await identify(database, telegram=telegram, name="Петя", channel="telegram")
    assert first.client.first_contact and first.client.client_id != client_id
    cache = LookupCache(10, 60)
    stale = LookupHit(first.client.client_id, first.client.person_id, "Петя", None, "standard", None)
    cache.put(("messenger:telegram", telegram), stale, cache.generation)

    announced: list[ClientChanged] = []
    shared = await identify(database, cache=cache, announced=announced, telegram=telegram,
                            phone="8 (916) 710-00-02", channel="telegram")
    # Services that keep rows per client (tickets) learn which card went into which.
    assert [(m.source_id, m.target_id) for c in announced for m in c.merges] == [
        (first.client.client_id, client_id)]
    assert shared.client.client_id == client_id and shared.client.match is MatchKind.EXACT_PHONE
    assert shared.client.possible_duplicates == [] and shared.client.first_contact is False
    assert cache.get(("messenger:telegram", telegram)) is None, "the absorbed card left the lookup cache"
    async with database.sessions() as session:
        card = await load_card(session, client_id)
        gone = await load_card(session, first.client.client_id)
        history = (await session.execute(select(contact_history.c.person_id)
                                         .where(contact_history.c.client_id == client_id))).scalars().all()
        redirect = await merged_into(session, first.client.client_id)
    assert gone is None and redirect == client_id
    assert card is not None and len(card.persons) == 1, "one human, one person: the sightings were folded"
    assert shared.client.person_id == card.persons[0].id
    assert {i.kind for i in card.identifiers if i.person_id == card.persons[0].id} == {
        "phone", "email", "messenger:telegram"}
    assert history == [card.persons[0].id, card.persons[0].id], "both contacts are in the card's history"
    (row,) = await audit(database, "merge")
    assert (row.client_id, row.other_id, row.actor) == (client_id, first.client.client_id, "identity")
    again = await identify(database, telegram=telegram, channel="telegram")
    assert again.client.client_id == client_id and again.client.match is MatchKind.MESSENGER_ID


async def test_new_sender_from_a_known_company_domain_joins_it_as_a_contact_person(database: Database) -> None:
    domain = f"romashka-{uuid.uuid4().hex[:8]}.ru"
    client_id = await register(database, romashka(f"petr@{domain}"))
    colleague = await identify(database, email=f"Anna.Smirnova@{domain.upper()}", name="Анна Смирнова")
    assert colleague.client.client_id == client_id and colleague.client.match is MatchKind.NEW
    assert colleague.client.first_contact is True and colleague.client.organisation == "ООО Ромашка"
    async with database.sessions() as session:
        card = await load_card(session, client_id)
    assert card is not None and [p.full_name for p in card.persons] == ["Пётр Сидоров", "Анна Смирнова"]
    assert (await identify(database, email=f"anna.smirnova@{domain}")).client.person_id == colleague.client.person_id

    free_mail = await identify(database, email=f"petr.{uuid.uuid4().hex[:6]}@mail.ru", name="Пётр")
    assert free_mail.client.client_id != client_id and free_mail.client.first_contact
    off = MatchPolicy(corporate_domains=False)
    stranger = await identify(database, policy=off, email=f"boss@{domain}")
    assert stranger.client.client_id != client_id, "switched off, a domain attaches no one"


async def test_a_domain_two_organisations_share_attaches_no_one(database: Database) -> None:
    domain = f"holding-{uuid.uuid4().hex[:8]}.ru"
    first = await register(database, NewClient(name="АО Холдинг", emails=[f"office@{domain}"]))
    second = await register(database, NewClient(name="ООО Дочка", emails=[f"info@{domain}"]))
    newcomer = await identify(database, email=f"new@{domain}")
    assert newcomer.client.client_id not in (first, second) and newcomer.client.first_contact


async def test_merge_keeps_every_identifier_and_the_history_with_an_audit_record(database: Database) -> None:
    target = await register(database, romashka(unique_email(), "+7 916 710-00-03"))
    stray = await identify(database, email=f"petr.{uuid.uuid4().hex[:8]}@mail.ru", phone="+7 916 710-00-04",
                           name="Пётр С.",
                           received_at=utcnow() - timedelta(days=30))
    await identify(database, email=stray.contact.sender.email)
    async with database.sessions() as session, session.begin():
        moved = await merge_cards(session, target=target, source=stray.client.client_id, actor="supervisor-1",
                                  reason="same client")
    assert moved == {"persons": 1, "identifiers": 2, "contracts": 0, "history": 2}
    async with database.sessions() as session:
        card = await load_card(session, target)
    assert card is not None and not card.provisional and card.tags == ["vip"]
    assert {i.value for i in card.identifiers} >= {"+79167100003", "+79167100004", stray.contact.sender.email}
    assert card.first_contact_at == stray.contact.received_at
    (row,) = await audit(database, "merge")
    assert row.actor == "supervisor-1" and row.detail["moved"]["history"] == 2
    after = await identify(database, phone="8 916 710 00 04")
    assert after.client.client_id == target and after.client.person_id == stray.client.person_id
    async with database.sessions() as session, session.begin():
        with pytest.raises(MergeRefused):
            await merge_cards(session, target=target, source=target, actor="x", reason="x")
        with pytest.raises(MergeRefused):
            await merge_cards(session, target=target, source=uuid.uuid4(), actor="x", reason="x")


async def test_contact_pointing_at_two_cards_is_flagged_once_for_review(database: Database) -> None:
    by_email = await identify(database, email=unique_email())
    by_phone = await identify(database, phone="+7 916 710-00-05")
    for _ in range(2):
        both = await identify(database, email=by_email.contact.sender.email, phone="89167100005")
        assert both.client.possible_duplicates == [by_email.client.client_id]
    flagged = await audit(database, "possible-duplicate")
    assert [(r.client_id, r.other_id) for r in flagged] == [(by_phone.client.client_id, by_email.client.client_id)]


async def test_erasure_removes_personal_data_and_keeps_statistics(database: Database) -> None:
    email = unique_email()
    private = await identify(database, email=email, phone="+7 916 710-00-06", name="Анна Смирнова",
                             telegram="710000006")
    await identify(database, email=email)
    async with database.sessions() as session, session.begin():
        request = await erase_person(session, private.client.person_id, actor="dpo")
    client_id = request.client_id
    assert client_id == private.client.client_id
    # What the other stores are told: the two contacts and digests of the identifiers, no identifier in clear.
    assert request.message.type_name() == "client.erased.v1" and len(request.message.contact_ids) == 2
    assert request.counts["identity.identity_inbox"] == 2 and request.counts["identity.identifiers"] == 3
    told = request.message.model_dump_json()
    # Each identifier in every written form (a bare "710" also occurs by chance in the hex of ids and digests).
    assert not [clear for clear in (email, "9167100006", "916 710-00-06", "710000006") if clear in told]
    async with database.sessions() as session, session.begin():
        again = await erase_person(session, private.client.person_id, actor="dpo")
    assert again.id == request.id, "a repeated erasure is the same request"
    async with database.sessions() as session:
        card = await load_card(session, client_id)
        history = (await session.execute(select(contact_history).where(
            contact_history.c.client_id == client_id))).all()
        left = (await session.execute(select(identifiers).where(identifiers.c.client_id == client_id))).all()
        name = (await session.execute(select(clients.c.name).where(clients.c.id == client_id))).scalar_one()
    assert card is not None and card.persons[0].erased and card.persons[0].full_name is None
    assert left == [] and name == ERASED_NAME and card.identifiers == []
    assert len(history) == 2, "contact statistics survive the erasure"
    (row,) = await audit(database, "erase")
    assert row.actor == "dpo" and row.detail["identifiers_removed"] == 3
    assert email not in str(row.detail) and "Анна" not in str(row.detail)
    comeback = await identify(database, email=email)
    assert comeback.client.first_contact and comeback.client.client_id != client_id
    async with database.sessions() as session, session.begin():
        with pytest.raises(NothingToErase):
            await erase_person(session, uuid.uuid4(), actor="dpo")


async def test_erasing_a_company_contact_keeps_the_company(database: Database) -> None:
    email = unique_email()
    client_id = await register(database, romashka(email, "+7 916 710-00-07"))
    async with database.sessions() as session:
        card = await load_card(session, client_id)
    assert card is not None
    async with database.sessions() as session, session.begin():
        await erase_person(session, card.persons[0].id, actor="dpo")
    async with database.sessions() as session:
        after = await load_card(session, client_id)
    assert after is not None and after.name == "ООО Ромашка" and after.identifiers == []
    assert "contact_person" in after.missing_fields


async def test_concurrent_contact_shares_merge_once(database: Database) -> None:
    client_id = await register(database, romashka(unique_email(), "+7 916 710-00-08"))
    telegram = str(uuid.uuid4().int % 10**9)
    await identify(database, telegram=telegram, channel="telegram")
    results = await asyncio.gather(*(identify(database, telegram=telegram, phone="+79167100008",
                                              channel="telegram") for _ in range(3)))
    assert {r.client.client_id for r in results} == {client_id}
    assert len(await audit(database, "merge")) == 1


async def test_migration_0002_fills_search_names_and_email_domains_of_existing_cards(database_url: str) -> None:
    from alembic import command
    from sqlalchemy import text

    from .conftest import migrations_at

    config = migrations_at(database_url)
    await asyncio.to_thread(command.upgrade, config, "0001")
    db = Database(database_url)
    await db.open()
    try:
        client_id, now = uuid.uuid4(), utcnow()
        async with db.sessions() as session, session.begin():
            # Only 0001's columns: the insert names them, so the 0002 columns of the table object stay out.
            await session.execute(clients.insert().values(
                id=client_id, kind="org", name="ООО Ромашка", sla_tier="standard", provisional=False,
                created_at=now, updated_at=now))
            await session.execute(text(
                "INSERT INTO identifiers (id, client_id, kind, value, raw, created_at) "
                "VALUES (:id, :client_id, 'email', 'petr@romashka.ru', 'Petr@Romashka.ru', :now)"),
                {"id": uuid.uuid4().hex if "sqlite" in database_url else uuid.uuid4(),
                 "client_id": client_id.hex if "sqlite" in database_url else client_id, "now": now})
    finally:
        await db.close()
    await asyncio.to_thread(command.upgrade, config, "head")
    db = Database(database_url)
    await db.open()
    try:
        async with db.sessions() as session:
            row = (await session.execute(select(clients.c.search_name, clients.c.tags)
                                         .where(clients.c.id == client_id))).one()
            domain = (await session.execute(select(identifiers.c.domain))).scalar_one()
        assert (row.search_name, row.tags, domain) == ("ооо ромашка", [], "romashka.ru")
        newcomer = await identify(db, email="anna@romashka.ru")
        assert newcomer.client.client_id == client_id, "the migrated domain attaches colleagues"
    finally:
        await db.close()


async def test_import_chunk_that_hits_a_clash_is_written_row_by_row(database: Database) -> None:
    """Two rows claiming one phone (as when a contact takes it mid-import): one loads, one is reported."""
    from priyom_identity.csv_rows import ImportRow
    from priyom_identity.importing import ImportReport, import_rows
    from priyom_identity.matching import PHONE, Identifier

    shared = Identifier(PHONE, "+79167400001", "8 916 740-00-01")
    rows = [ImportRow(2, "Первый", "ООО Альфа", "Иванова", (shared,)),
            ImportRow(3, "Второй", "ООО Альфа", None, (shared,)),
            ImportRow(4, "Третий", "ООО Бета", None, (Identifier(PHONE, "+79167400002", "+79167400002"),))]
    report = ImportReport()
    async with database.sessions() as session, session.begin():
        await import_rows(session, rows, report)
    assert (report.cards_created, report.persons_added) == (2, 2)
    assert [(e.line, e.reason) for e in report.errors] == [(3, "a phone or email of this row was just taken")]
    owner = (await identify(database, phone="+79167400001")).client
    assert owner.display_name == "ООО Альфа" and owner.account_manager == "Иванова"
