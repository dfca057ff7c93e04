"""Contacts identified in batches (one transaction each, as the service does under load) are identified as they
are one at a time: a sender writing twice in one batch gets one card, first contact only once, a repeat in the
batch is the recorded outcome, and every identification is published once its batch committed."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select

from priyom_contracts import (
    ClientChange,
    ContactIdentified,
    ContactType,
    DeliveryReported,
    DeliveryStatus,
    Event,
    TicketCreated,
    TicketStatus,
    Urgency,
    utcnow,
)
from priyom_identity.cards import NewClient, NewPerson
from priyom_identity.handlers import on_contacts_received, on_deliveries_reported, on_tickets_created
from priyom_identity.identify import register_card
from priyom_identity.mail_replies import sent_digest
from priyom_identity.policy import MatchPolicy
from priyom_identity.tables import clients, contact_history, identifiers, inbox, sent_mail
from priyom_kit.db import Database, Inbox
from priyom_testing.statements import sent_statements

from .conftest import contact_event, unique_email

POLICY = MatchPolicy(region="RU")


def report(email: str, status: DeliveryStatus, at: datetime, message_id: str | None = None) -> DeliveryReported:
    """The e-mail channel's report on one reply to ``email``."""
    reply_id = uuid.uuid4()
    return DeliveryReported(correlation_id=uuid.uuid4(), channel="email", idempotency_key=f"{reply_id}:{status.value}",
                            occurred_at=at, ticket_number="2026-000123", reply_id=reply_id, status=status,
                            detail="550 unknown", recipient_email=email, external_message_id=message_id)


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


async def test_a_batch_asks_who_its_senders_are_once_and_again_only_after_it_changed_that(
        database: Database) -> None:
    """Owners and organisations are read for the whole batch, and asked again only about what a contact of the
    batch wrote: a sender writing twice, and a domain a contact gave a confirmed organisation, whose stranger
    later in the batch becomes the organisation's colleague."""
    nobodys, domain, moved_to = (f"{name}-{uuid.uuid4().hex[:8]}.ru" for name in ("nobody", "firm", "new"))
    phone = "+7 916 555-" + f"{uuid.uuid4().int % 100:02d}-{uuid.uuid4().int % 100:02d}"
    async with database.sessions() as session, session.begin():
        firm = await register_card(session, NewClient(name="ООО Фирма", persons=[NewPerson(
            full_name="Пётр", phones=[phone], emails=[f"petr@{domain}"])]), POLICY)
    with sent_statements(database) as statements:
        strangers = [contact_event(email=f"stranger{i}@{nobodys}", name=f"Незнакомец {i}") for i in range(5)]
        again = contact_event(email=f"stranger0@{nobodys}", name="Незнакомец 0")
        moving = contact_event(phone=phone, email=f"petr@{moved_to}", channel="telephony")
        newcomer = contact_event(email=f"anna@{moved_to}", name="Анна")
        outcomes = await on_contacts_received([*strangers, again, moving, newcomer], sessions=database.sessions,
                                              inbox=Inbox(inbox, "test"), bus=Bus(), policy=POLICY)  # type: ignore[arg-type]
    cards = [o.client.client_id for o in outcomes if isinstance(o, ContactIdentified)]
    assert len(cards) == 8 and len(set(cards[:5])) == 5 and cards[5] == cards[0], "a card each, once"
    assert cards[6:] == [firm, firm], "the newcomer joins the organisation its domain now belongs to"
    asked_owners = [s for s in statements if "(identifiers.kind, identifiers.value) IN" in s]
    asked_domains = [s for s in statements if s.lstrip().startswith("SELECT") and "FROM organisation_domains" in s]
    # Once for the batch; then the owners of the address the first stranger's card took, and the domain the
    # moving contact gave the organisation.
    assert (len(asked_owners), len(asked_domains)) == (2, 2)


async def test_tickets_created_together_each_reach_their_contacts_history(database: Database) -> None:
    events = [contact_event(email=unique_email()) for _ in range(3)]
    box = Inbox(inbox, "test")
    identified = await on_contacts_received(events, sessions=database.sessions, inbox=box, bus=Bus(),
                                            policy=POLICY)  # type: ignore[arg-type]
    now = utcnow()
    elsewhere = contact_event(email=unique_email())  # registered by another gateway: identity never saw it
    created = [TicketCreated(
        correlation_id=e.correlation_id, channel="web", idempotency_key=e.idempotency_key, number=f"2026-00012{i}",
        contact_id=e.contact.contact_id, client_id=out.client.client_id, first_contact=True,  # type: ignore[union-attr]
        type=ContactType.INFORMATION_REQUEST, urgency=Urgency.NORMAL, status=TicketStatus.NEW, team="support",
        first_response_due_at=now + timedelta(hours=1), resolution_due_at=now + timedelta(days=1))
        for i, (e, out) in enumerate(zip([*events, elsewhere], [*identified, identified[0]], strict=True))]
    assert await on_tickets_created(created, sessions=database.sessions) == [None] * 4
    async with database.sessions() as session:
        numbers = dict((await session.execute(select(contact_history.c.contact_id, contact_history.c.ticket_number)
                                              )).all())
    assert {numbers[e.contact.contact_id] for e in events} == {"2026-000120", "2026-000121", "2026-000122"}
    assert elsewhere.contact.contact_id not in numbers


class Changes:
    """The card changes' hook (a dependency): which cards each committed change names."""

    def __init__(self) -> None:
        self.told: list[tuple[ClientChange, set]] = []

    async def committed(self, change: ClientChange, cards: set, *, channel: str) -> None:
        self.told.append((change, set(cards)))


async def test_delivery_reports_together_flag_and_clear_as_one_at_a_time(database: Database) -> None:
    """A burst of notices comes back as a burst of reports, taken in one transaction: a later report of an
    address sees the earlier one's flag, a "retrying" says nothing, and each changed card is told after the
    commit."""
    failing, recovering = unique_email(), unique_email()
    cards = await on_contacts_received([contact_event(email=failing), contact_event(email=recovering)],
                                       sessions=database.sessions, inbox=Inbox(inbox, "test"), bus=Bus(),
                                       policy=POLICY)  # type: ignore[arg-type]
    now = utcnow()
    changes = Changes()
    batch = [report(failing, DeliveryStatus.FAILED, now), report(recovering, DeliveryStatus.FAILED, now),
             report(failing, DeliveryStatus.RETRYING, now + timedelta(seconds=1)),
             report(recovering, DeliveryStatus.DELIVERED, now + timedelta(seconds=5))]
    assert await on_deliveries_reported(batch, sessions=database.sessions, policy=POLICY,
                                        changes=changes) == [None] * 4  # type: ignore[arg-type]
    async with database.sessions() as session:
        flagged = dict((await session.execute(select(identifiers.c.value, identifiers.c.undeliverable_at)
                                              .where(identifiers.c.kind == "email"))).all())
    assert flagged[failing] is not None and flagged[recovering] is None
    failing_card, recovering_card = (out.client.client_id for out in cards)  # type: ignore[union-attr]
    assert changes.told == [(ClientChange.FLAGGED, {failing_card}), (ClientChange.FLAGGED, {recovering_card}),
                            (ClientChange.FLAGGED, {recovering_card})]


async def test_deliveries_together_clear_only_flags_set_before_them_and_remember_each_mail(
        database: Database) -> None:
    """A batch of deliveries, the usual reports (one a notice a contact brings): each flag reported before its
    delivery is cleared and its card told, one reported after it stays, an address never flagged changes
    nothing, and every delivered Message-ID is remembered, a redelivered report's too, once. The statements
    are counted: the batch's addresses are read once, not cleared one by one."""
    stale, fresh, clean = unique_email(), unique_email(), unique_email()
    cards = await on_contacts_received([contact_event(email=e) for e in (stale, fresh, clean)],
                                       sessions=database.sessions, inbox=Inbox(inbox, "test"), bus=Bus(),
                                       policy=POLICY)  # type: ignore[arg-type]
    stale_card, _, _ = (out.client.client_id for out in cards)  # type: ignore[union-attr]
    now = utcnow()
    await on_deliveries_reported([report(stale, DeliveryStatus.FAILED, now),
                                  report(fresh, DeliveryStatus.FAILED, now + timedelta(seconds=10))],
                                 sessions=database.sessions, policy=POLICY)  # type: ignore[arg-type]
    changes = Changes()
    delivered = now + timedelta(seconds=5)
    batch = [report(stale, DeliveryStatus.DELIVERED, delivered, "reply.1@priyom.test"),
             report(fresh, DeliveryStatus.DELIVERED, delivered, "reply.2@priyom.test"),
             report(clean, DeliveryStatus.DELIVERED, delivered, "reply.3@priyom.test"),
             report(clean, DeliveryStatus.RETRYING, now + timedelta(seconds=6)),
             report(clean, DeliveryStatus.DELIVERED, delivered, "reply.3@priyom.test")]  # the same report again
    with sent_statements(database) as statements:
        assert await on_deliveries_reported(batch, sessions=database.sessions, policy=POLICY,
                                            changes=changes) == [None] * 5  # type: ignore[arg-type]
    async with database.sessions() as session:
        flags = dict((await session.execute(select(identifiers.c.value, identifiers.c.undeliverable_at)
                                            .where(identifiers.c.kind == "email"))).all())
        remembered = set((await session.execute(select(sent_mail.c.digest))).scalars())
    assert flags[stale] is None and flags[fresh] is not None and flags[clean] is None
    assert changes.told == [(ClientChange.FLAGGED, {stale_card}), (ClientChange.FLAGGED, set()),
                            (ClientChange.FLAGGED, set()), (ClientChange.FLAGGED, set())]
    assert {sent_digest(f"reply.{n}@priyom.test", e) for n, e in ((1, stale), (2, fresh), (3, clean))} <= remembered
    written = [s for s in statements if "identifiers" in s or "sent_mail" in s]
    assert len(written) == 4, written  # the flags read, the two flagged addresses' clears, the mails remembered
