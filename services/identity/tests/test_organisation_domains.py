"""The organisations' mail domains stay what ``identifiers`` and ``clients`` say through every change that moves
them, and the colleague lookup reads them (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import ContactIdentified
from priyom_identity import organisation_domains, store
from priyom_identity.cards import NewClient, NewPerson
from priyom_identity.csv_rows import ImportRow
from priyom_identity.erasure import erase_person
from priyom_identity.handlers import identify_recorded
from priyom_identity.identifier_claims import Review, review_claim, take_proven_claims
from priyom_identity.identify import register_card
from priyom_identity.importing import ImportReport, import_rows
from priyom_identity.matching import EMAIL, Identifier, Owner
from priyom_identity.merging import merge_cards, undo_merge
from priyom_identity.policy import MatchPolicy
from priyom_identity.tables import identifiers, inbox
from priyom_identity.tables import organisation_domains as domains
from priyom_kit.db import Database, Inbox

from .conftest import contact_event

POLICY = MatchPolicy(region="RU")


def a_domain(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}.ru"


async def change(database: Database, work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
    """Run ``work`` in a transaction, then check the table against what it is derived from."""
    async with database.sessions() as session, session.begin():
        result = await work(session)
    await same_as_derived(database)
    return result


async def same_as_derived(database: Database) -> None:
    async with database.sessions() as session:
        kept = set((await session.execute(select(domains.c.domain, domains.c.client_id))).all())
        derived = set((await session.execute(organisation_domains.derived_rows())).all())
    assert kept == derived


async def rows_for(database: Database, domain: str) -> set[uuid.UUID]:
    async with database.sessions() as session:
        return set((await session.execute(select(domains.c.client_id).where(domains.c.domain == domain))).scalars())


async def identify(database: Database, email: str, name: str | None = None,
                   organisation: str | None = None) -> ContactIdentified:
    return await identify_recorded(contact_event(email=email, name=name, organisation=organisation),
                                   sessions=database.sessions, inbox=Inbox(inbox, "test"), policy=POLICY)


def org(name: str, *emails: str) -> NewClient:
    return NewClient(name=name, persons=[NewPerson(full_name="Пётр Сидоров", emails=list(emails))])


async def test_new_senders_at_a_busy_domain_add_no_rows_and_join_the_organisation_once_there_is_one(
        database: Database) -> None:
    domain = a_domain("busy")
    strangers = [await identify(database, f"client{i}@{domain}", name=f"Клиент {i}") for i in range(30)]
    assert len({s.client.client_id for s in strangers}) == 30, "no organisation yet: a provisional card each"
    assert await rows_for(database, domain) == set(), "provisional cards are not organisations"
    client_id = await change(database, lambda s: register_card(s, org("ООО Занятая", f"office@{domain}"), POLICY))
    assert await rows_for(database, domain) == {client_id}
    colleague = await identify(database, f"newcomer@{domain}", name="Новый Сотрудник")
    assert colleague.client.client_id == client_id and colleague.client.first_contact


async def test_a_card_edited_into_or_out_of_a_confirmed_organisation_moves_its_domains(database: Database) -> None:
    domain = a_domain("edited")
    made = await identify(database, f"boss@{domain}", organisation="ООО Новенькая")  # a provisional org card
    client_id = made.client.client_id
    assert await rows_for(database, domain) == set()
    await change(database, lambda s: store.update_client(s, client_id, {"provisional": False}))
    assert await rows_for(database, domain) == {client_id}
    assert (await identify(database, f"anna@{domain}")).client.client_id == client_id
    await change(database, lambda s: store.update_client(s, client_id, {"kind": "person"}))
    assert await rows_for(database, domain) == set()
    assert (await identify(database, f"ivan@{domain}")).client.client_id != client_id
    await change(database, lambda s: store.update_client(s, client_id, {"name": "ООО Переименованная"}))
    await change(database, lambda s: store.update_client(s, client_id, {"kind": "org"}))
    assert await rows_for(database, domain) == {client_id}


async def test_a_merge_brings_the_sources_domains_and_its_undo_takes_them_back(database: Database) -> None:
    own, other = a_domain("own"), a_domain("other")
    target = await change(database, lambda s: register_card(s, org("ООО Цель", f"office@{own}"), POLICY))
    stray = (await identify(database, f"petr@{other}", name="Пётр")).client.client_id
    await change(database, lambda s: merge_cards(s, target=target, source=stray, actor="supervisor",
                                                  reason="same client"))
    assert await rows_for(database, other) == {target}
    assert (await identify(database, f"anna@{other}")).client.client_id == target
    await change(database, lambda s: undo_merge(s, target=target, source=stray, actor="supervisor"))
    assert await rows_for(database, own) == {target}


async def test_an_erased_person_takes_their_domain_with_them(database: Database) -> None:
    own, private = a_domain("firm"), a_domain("private")
    new = NewClient(name="ООО Фирма", persons=[NewPerson(full_name="Пётр", emails=[f"petr@{own}"]),
                                              NewPerson(full_name="Анна", emails=[f"anna@{private}"])])
    client_id = await change(database, lambda s: register_card(s, new, POLICY))
    assert await rows_for(database, private) == {client_id}
    async with database.sessions() as session:
        anna = (await session.execute(select(identifiers.c.person_id)
                                      .where(identifiers.c.value == f"anna@{private}"))).scalar_one()
    await change(database, lambda s: erase_person(s, anna, actor="dpo"))
    assert await rows_for(database, private) == set() and await rows_for(database, own) == {client_id}


async def test_an_import_adds_its_companies_domains(database: Database) -> None:
    domain = a_domain("imported")
    rows = [ImportRow(2, "Пётр", "ООО Импорт", None, (Identifier(EMAIL, f"petr@{domain}", f"petr@{domain}"),)),
            ImportRow(3, "Частное лицо", None, None, (Identifier(EMAIL, f"me@{a_domain('home')}", "me"),))]
    report = await change(database, lambda s: import_rows(s, rows, ImportReport()))
    assert report.cards_created == 2
    (client_id,) = await rows_for(database, domain)
    assert (await identify(database, f"anna@{domain}")).client.client_id == client_id


async def test_claims_taken_onto_an_organisation_or_rejected_move_the_domain(database: Database) -> None:
    own, claimed = a_domain("claimant"), a_domain("claimed")
    client_id = await change(database, lambda s: register_card(s, org("ООО Заявитель", f"office@{own}"), POLICY))
    claim = Identifier(EMAIL, f"petr@{claimed}", f"petr@{claimed}", verified=False)

    async def provisional_card_claiming(session: AsyncSession) -> uuid.UUID:
        card = await store.create_client(session, kind="person", name="Пётр", provisional=True)
        await store.add_identifiers(session, Owner(card, None), [claim])
        return card
    await change(database, provisional_card_claiming)
    assert await rows_for(database, claimed) == set()
    await change(database, lambda s: take_proven_claims(s, Owner(client_id, None), [claim],
                                                       verified_by="channel:email", actor="identity"))
    assert await rows_for(database, claimed) == {client_id}

    rejected = Identifier(EMAIL, f"anna@{a_domain('rejected')}", "anna", verified=False)
    await change(database, lambda s: store.add_identifiers(s, Owner(client_id, None), [rejected]))
    assert await rows_for(database, rejected.domain or "") == {client_id}
    async with database.sessions() as session:
        identifier_id = (await session.execute(select(identifiers.c.id)
                                               .where(identifiers.c.value == rejected.value))).scalar_one()
    await change(database, lambda s: review_claim(s, client_id, identifier_id, Review.REJECT, actor="agent"))
    assert await rows_for(database, rejected.domain or "") == set()


async def test_a_deleted_card_takes_its_rows(database: Database) -> None:
    domain = a_domain("deleted")
    client_id = await change(database, lambda s: register_card(s, org("ООО Удаляемая", f"office@{domain}"), POLICY))
    await change(database, lambda s: store.delete_client(s, client_id, actor="admin"))
    assert await rows_for(database, domain) == set()
