"""Contacts identified in batches (one transaction each, as the service does under load) are identified as they
are one at a time: a sender writing twice in one batch gets one card, first contact only once, a repeat in the
batch is the recorded outcome, and every identification is published once its batch committed."""

from __future__ import annotations

from sqlalchemy import func, select

from priyom_contracts import ContactIdentified, Event
from priyom_identity.handlers import on_contacts_received
from priyom_identity.policy import MatchPolicy
from priyom_identity.tables import clients, contact_history, inbox
from priyom_kit.db import Database, Inbox

from .conftest import contact_event, unique_email

POLICY = MatchPolicy(region="RU")


class Bus:
    """The bus's publish (a dependency), refusing one message to show a refusal stays that contact's own."""

    def __init__(self, refuse: str | None = None) -> None:
        self.published: list[ContactIdentified] = []
        self.refuse = refuse

    async def publish(self, event: Event) -> None:
        assert isinstance(event, ContactIdentified)
        if event.idempotency_key == self.refuse:
            raise ConnectionError("the broker refused the publish")
        self.published.append(event)


async def test_a_batch_identifies_as_one_at_a_time(database: Database) -> None:
    twice = unique_email()
    first, second = contact_event(email=twice, name="Анна"), contact_event(email=twice, name="Анна")
    stranger = contact_event(email=unique_email(), key="web:refused")
    batch = [first, second, stranger, first]
    bus = Bus(refuse="web:refused")

    outcomes = await on_contacts_received(batch, sessions=database.sessions, inbox=Inbox(inbox, "test"),
                                          bus=bus, policy=POLICY)  # type: ignore[arg-type]

    one, two, refused, repeat = outcomes
    assert isinstance(one, ContactIdentified) and isinstance(two, ContactIdentified)
    assert one.client.client_id == two.client.client_id, "the second contact finds the card the first made"
    assert (one.client.first_contact, two.client.first_contact) == (True, False)
    assert repeat == one, "a repeat in the batch is the recorded outcome, message id and all"
    assert isinstance(refused, ConnectionError), "a refused publish fails that contact's delivery only"
    assert [p.idempotency_key for p in bus.published] == [first.idempotency_key, second.idempotency_key,
                                                           first.idempotency_key]
    async with database.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(clients))).scalar_one() == 2
        assert (await session.execute(select(func.count()).select_from(contact_history))).scalar_one() == 3
