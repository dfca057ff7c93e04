"""A missed or abandoned call (``contact.call.call_back``) leaves a call-back activity on its ticket."""

from __future__ import annotations

from datetime import datetime, timedelta

from priyom_contracts import CallDetails, CallOutcome, ContactRouted, ThreadHint, utcnow
from priyom_kit.db import Database, Inbox
from priyom_tickets import activities, store
from priyom_tickets.arrivals import Appended, register_contact

from .conftest import MakeRouted


def phoned(event: ContactRouted, outcome: CallOutcome, *, queue: str | None = None,
           started: datetime | None = None) -> ContactRouted:
    """The routed contact as the telephony channel publishes a call (started two minutes ago unless said)."""
    started = started or utcnow() - timedelta(minutes=2)
    call = CallDetails(call_id="pbx1-1764072000.17", outcome=outcome, caller="+79161234567", queue=queue,
                       started_at=started, ended_at=started + timedelta(seconds=40),
                       answered_at=started if outcome is CallOutcome.ANSWERED else None,
                       agent="101" if outcome is CallOutcome.ANSWERED else None,
                       call_back=outcome is not CallOutcome.ANSWERED)
    return event.model_copy(update={"contact": event.contact.model_copy(update={"call": call})})


async def call_backs(database: Database, number: str) -> list[dict]:
    async with database.sessions() as session:
        ticket = await store.get_ticket(session, number)
        rows = await store.activities_of(session, ticket["seq"])
    return [dict(r) for r in rows if r["kind"] == activities.ActivityKind.CALL_BACK.value]


async def test_a_missed_call_gets_a_call_back_once(database: Database, inbox: Inbox, make_routed: MakeRouted) -> None:
    event = phoned(make_routed(channel="phone", subject="Missed call from +79161234567", body="",
                               assignee="ivanova"), CallOutcome.ABANDONED, queue="support")
    created, new = await register_contact(database.sessions, inbox, event)
    assert new
    again, new_again = await register_contact(database.sessions, inbox, event)  # a redelivery
    assert (again, new_again) == (created, False)
    [activity] = await call_backs(database, created.number)
    assert activity["owner"] == "ivanova" and activity["done_at"] is None
    assert activity["title"].startswith("Call back +79161234567: abandoned call at ")
    assert activity["title"].endswith("(queue support)")


async def test_an_answered_call_needs_none(database: Database, inbox: Inbox, make_routed: MakeRouted) -> None:
    event = phoned(make_routed(channel="phone", subject="Call from +79161234567", body=""), CallOutcome.ANSWERED)
    created, _ = await register_contact(database.sessions, inbox, event)
    assert await call_backs(database, created.number) == []


async def test_a_missed_call_on_an_open_ticket_is_called_back_there(database: Database, inbox: Inbox,
                                                                    make_routed: MakeRouted) -> None:
    first = make_routed(channel="phone", first_contact=True)
    created, _ = await register_contact(database.sessions, inbox, first)
    missed = phoned(make_routed(channel="phone", client_id=first.client.client_id, first_contact=False,
                                subject="Missed call from +79161234567", body="",
                                thread=ThreadHint(ticket_number=created.number)), CallOutcome.MISSED)
    outcome, _ = await register_contact(database.sessions, inbox, missed)
    assert outcome == Appended(created.number, str(missed.contact.contact_id))  # the caller's open ticket
    [activity] = await call_backs(database, outcome.number)
    assert activity["owner"] == "service"  # no assignee: the team owns it
