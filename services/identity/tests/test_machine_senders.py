"""Contacts machines wrote (bounces, auto-replies, list mail) on both databases: from an unknown address they
share one card and leave no identifier behind; from a known client's address they are that client's."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from priyom_contracts import AutomatedKind, ContactIdentified, ContactReceived
from priyom_identity.cards import NewClient
from priyom_identity.handlers import identify_recorded
from priyom_identity.identify import MACHINE_SENDERS_NAME, register_card
from priyom_identity.policy import MatchPolicy
from priyom_identity.store import load_card
from priyom_identity.tables import clients, identifiers, inbox
from priyom_kit.db import Database, Inbox

from .conftest import contact_event, unique_email

POLICY = MatchPolicy(region="RU")


def machine(kind: AutomatedKind, **sender: object) -> ContactReceived:
    event = contact_event(channel="email", **sender)  # type: ignore[arg-type]
    contact = event.contact.model_copy(update={"automated": kind})
    return event.model_copy(update={"contact": contact})


async def identify(database: Database, event: ContactReceived) -> ContactIdentified:
    return await identify_recorded(event, sessions=database.sessions, inbox=Inbox(inbox, "test"), policy=POLICY)


async def test_unknown_machines_share_one_card_and_leave_no_identifiers(database: Database) -> None:
    daemon = "mailer-daemon@mx.example.ru"
    first, second = await asyncio.gather(  # two bounces at once still make one card
        identify(database, machine(AutomatedKind.BOUNCE, email=daemon, name="Mail Delivery System")),
        identify(database, machine(AutomatedKind.BOUNCE, email="postmaster@mx2.example.ru")))
    ooo = await identify(database, machine(AutomatedKind.AUTO_REPLY, email=unique_email(), name="Отпуск"))
    assert first.client.client_id == second.client.client_id == ooo.client.client_id
    assert not first.client.first_contact and first.client.display_name == MACHINE_SENDERS_NAME
    async with database.sessions() as session:
        card = await load_card(session, first.client.client_id)
        kept = (await session.execute(select(func.count()).select_from(identifiers)
                                      .where(identifiers.c.kind == "email"))).scalar_one()
        cards = (await session.execute(select(func.count()).select_from(clients))).scalar_one()
    assert card is not None and not card.provisional and card.tags == ["automated"] and card.persons == []
    assert kept == 0 and cards == 1
    person = await identify(database, contact_event(email=daemon, name="Администратор почты"))
    assert person.client.first_contact and person.client.client_id != first.client.client_id


async def test_a_known_clients_auto_reply_is_that_clients(database: Database) -> None:
    email = unique_email()
    async with database.sessions() as session, session.begin():
        client_id = await register_card(session, NewClient(name="ООО Отпуск", emails=[email]), POLICY)
    ooo = await identify(database, machine(AutomatedKind.AUTO_REPLY, email=email))
    assert ooo.client.client_id == client_id and not ooo.client.first_contact
