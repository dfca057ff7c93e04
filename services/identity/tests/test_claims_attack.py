"""Issue 15, finding 2, as the attacker tries it: a web form with a victim's e-mail and the attacker's phone,
then a call from that phone. Against the real databases (SQLite and PostgreSQL), with contact events as the
intake services publish them and the caller lookup as telephony asks it."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select

from priyom_contracts import ClientLookupRequest, ContactIdentified, utcnow
from priyom_identity.cards import NewClient, NewPerson
from priyom_identity.handlers import identify_recorded
from priyom_identity.identify import register_card
from priyom_identity.lookup.cache import LookupCache
from priyom_identity.lookup.client_lookup import ClientLookup
from priyom_identity.lookup.reader import lookup_reader
from priyom_identity.policy import MatchPolicy
from priyom_identity.store import load_card
from priyom_identity.tables import card_audit, clients, identifiers, inbox
from priyom_kit.db import Database, Inbox

from .conftest import contact_event, unique_email

POLICY = MatchPolicy(region="RU")


async def identify(database: Database, **sender: object) -> ContactIdentified:
    return await identify_recorded(contact_event(**sender), sessions=database.sessions,  # type: ignore[arg-type]
                                   inbox=Inbox(inbox, "test"), policy=POLICY)


async def caller_lookup(database: Database, database_url: str, phone: str) -> object:
    """What telephony's pop-up gets for a ringing number (the bus request/reply's handler, cache included)."""
    reader = lookup_reader(database_url, lambda: database.sessions())
    await reader.open()
    try:
        lookup = ClientLookup(reader, LookupCache(size=100, ttl_s=60), POLICY)
        return await lookup.answer(ClientLookupRequest(request_id=uuid.uuid4(), phone=phone).model_dump(mode="json"))
    finally:
        await reader.close()


async def victim_card(database: Database, email: str) -> uuid.UUID:
    async with database.sessions() as session, session.begin():
        return await register_card(session, NewClient(
            name="ООО Жертва", persons=[NewPerson(full_name="Вера Жертвова", emails=[email])]), POLICY)


async def test_a_web_form_cannot_put_a_phone_on_a_card_that_a_call_then_pops_up(
        database: Database, database_url: str) -> None:
    victim_email, attacker_phone = unique_email(), "+7 916 780-00-01"
    victim = await victim_card(database, victim_email)
    form = await identify(database, email=victim_email, phone=attacker_phone, name="Вера", channel="web")
    assert form.client.client_id == victim, "the form still matches the card of the e-mail it claimed"
    async with database.sessions() as session:
        card = await load_card(session, victim)
    assert card is not None
    claimed = {(i.kind, i.value): i.verified for i in card.identifiers}
    assert claimed == {("email", victim_email): True, ("phone", "+79167800001"): False}, "shown as a claim"

    popup = await caller_lookup(database, database_url, "8 916 780 00 01")
    assert popup.found is False and popup.client_id is None  # type: ignore[attr-defined]

    call = await identify(database, phone=attacker_phone, channel="phone")
    assert call.client.client_id != victim and call.client.first_contact is True
    async with database.sessions() as session:
        card = await load_card(session, victim)
        owner = (await session.execute(select(identifiers.c.client_id, identifiers.c.verified, identifiers.c.verified_by)
                                       .where(identifiers.c.value == "+79167800001"))).one()
        flagged = (await session.execute(select(card_audit.c.action).where(
            card_audit.c.client_id == call.client.client_id, card_audit.c.other_id == victim))).scalars().all()
    assert card is not None and [i.kind for i in card.identifiers] == ["email"], "the call took the number back"
    assert tuple(owner) == (call.client.client_id, True, "channel:phone")
    assert set(flagged) == {"possible-duplicate", "claim-proven"}
    later = await caller_lookup(database, database_url, attacker_phone)
    assert later.client_id == call.client.client_id != victim  # type: ignore[attr-defined]


async def test_a_phone_claimed_on_the_form_identifies_the_caller_once_an_agent_confirmed_it(
        database: Database, database_url: str) -> None:
    from priyom_identity.identifier_claims import Review, review_claim

    email, phone = unique_email(), "+7 916 780-00-02"
    first = await identify(database, email=email, phone=phone, name="Игорь", channel="web")
    client_id = first.client.client_id
    assert (await caller_lookup(database, database_url, phone)).found is False  # type: ignore[attr-defined]
    async with database.sessions() as session, session.begin():
        phone_id = (await session.execute(select(identifiers.c.id).where(
            identifiers.c.value == "+79167800002"))).scalar_one()
        await review_claim(session, client_id, phone_id, Review.CONFIRM, actor="agent-1")
    assert (await caller_lookup(database, database_url, phone)).client_id == client_id  # type: ignore[attr-defined]
    assert (await identify(database, phone=phone, channel="phone")).client.client_id == client_id


async def test_a_telegram_user_sharing_a_claimed_phone_takes_it_instead_of_joining_that_card(
        database: Database) -> None:
    victim_email, phone, telegram = unique_email(), "+7 916 780-00-03", str(uuid.uuid4().int % 10**9)
    victim = await victim_card(database, victim_email)
    await identify(database, email=victim_email, phone=phone, channel="web")
    await identify(database, telegram=telegram, channel="telegram")
    shared = await identify(database, telegram=telegram, phone=phone, channel="telegram")
    assert shared.client.client_id != victim
    async with database.sessions() as session:
        merged = (await session.execute(select(clients.c.id).where(clients.c.id == victim))).scalar_one_or_none()
    assert merged == victim, "the victim's card was neither absorbed nor absorbing"


async def test_migration_0007_keeps_existing_identifiers_verified(database_url: str) -> None:
    from alembic import command
    from sqlalchemy import text

    from .conftest import migrations_at

    config = migrations_at(database_url)
    await asyncio.to_thread(command.upgrade, config, "0006")
    sqlite = "sqlite" in database_url
    client_id, now = uuid.uuid4(), utcnow()
    db = Database(database_url)
    await db.open()
    try:
        async with db.sessions() as session, session.begin():
            await session.execute(text(
                "INSERT INTO clients (id, kind, name, sla_tier, provisional, created_at, updated_at) "
                "VALUES (:id, 'person', 'Старый клиент', 'standard', false, :now, :now)"),
                {"id": client_id.hex if sqlite else client_id, "now": now})
            await session.execute(text(
                "INSERT INTO identifiers (id, client_id, kind, value, raw, created_at) "
                "VALUES (:id, :client_id, 'phone', '+79167800004', '+79167800004', :now)"),
                {"id": uuid.uuid4().hex if sqlite else uuid.uuid4(),
                 "client_id": client_id.hex if sqlite else client_id, "now": now})
    finally:
        await db.close()
    await asyncio.to_thread(command.upgrade, config, "head")
    db = Database(database_url)
    await db.open()
    try:
        async with db.sessions() as session:
            row = (await session.execute(select(identifiers.c.verified, identifiers.c.verified_by).where(
                identifiers.c.value == "+79167800004"))).one()
        assert tuple(row) == (True, None)
        assert (await caller_lookup(db, database_url, "+79167800004")).client_id == client_id  # type: ignore[attr-defined]
    finally:
        await db.close()
