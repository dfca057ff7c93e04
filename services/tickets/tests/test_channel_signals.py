"""What the channels and the router tell tickets besides new contacts, on SQLite and PostgreSQL: a later
assignment (``contact.assigned``), machine-written mail (auto-replies, bounces), and the channel's own
message id that e-mail replies thread by."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select

from priyom_contracts import (
    AutomatedKind,
    ContactAssigned,
    ContactRouted,
    DeliveryReported,
    DeliveryStatus,
    ThreadHint,
)
from priyom_kit import TransientError
from priyom_kit.db import Inbox
from priyom_tickets import handlers, tables
from priyom_tickets.arrivals import Appended, register_contact

AGENT = {"Authorization": "Bearer agent-token"}


async def detail(tickets, number: str) -> dict:
    response = await tickets.client.get(f"/api/v1/tickets/{number}", headers=AGENT)
    assert response.status_code == 200, response.text
    return response.json()


async def move(tickets, number: str, *actions: str) -> None:
    for action in actions:
        response = await tickets.client.post(f"/api/v1/tickets/{number}/transitions", headers=AGENT,
                                             json={"action": action})
        assert response.status_code == 200, response.text


def assigned(contact_id: uuid.UUID, assignee: str, *, team: str = "service",
             number: str | None = None) -> ContactAssigned:
    return ContactAssigned(correlation_id=contact_id, channel="web", idempotency_key=f"{contact_id}:{assignee}",
                           contact_id=contact_id, ticket_number=number, team=team, assignee=assignee,
                           reason="agent freed up (least loaded)")


async def test_assignment_moves_the_assignee_once_with_a_history_line(tickets, make_routed) -> None:
    event = make_routed(team="service", assignee=None)
    created = await tickets.register(event)
    inbox = Inbox(tables.inbox, handlers.ASSIGNMENTS)
    sessions = tickets.database.sessions

    assert await handlers.on_contact_assigned(assigned(event.contact.contact_id, "Петров"),
                                              sessions=sessions, inbox=inbox) is True
    assert await handlers.on_contact_assigned(assigned(event.contact.contact_id, "Петров"),
                                              sessions=sessions, inbox=inbox) is False  # a redelivery
    # Reassigned within the team, naming the ticket this time.
    assert await handlers.on_contact_assigned(assigned(event.contact.contact_id, "Сидорова",
                                                       number=created.number),
                                              sessions=sessions, inbox=inbox) is True

    ticket = await detail(tickets, created.number)
    assert (ticket["assignee"], ticket["team"]) == ("Сидорова", "service")
    lines = [h for h in ticket["history"] if h["action"] == "assigned"]
    assert [(h["actor"], h["details"]["from"], h["details"]["to"]) for h in lines] == [
        ("router", None, "Петров"), ("router", "Петров", "Сидорова")]
    assert ticket["status"] == "new"


async def test_assignment_that_overtakes_its_contact_is_retried(tickets, make_routed) -> None:
    early = make_routed()
    with pytest.raises(TransientError, match="no ticket yet"):
        await handlers.on_contact_assigned(assigned(early.contact.contact_id, "Петров"),
                                           sessions=tickets.database.sessions,
                                           inbox=Inbox(tables.inbox, handlers.ASSIGNMENTS))


async def test_assignment_arrives_over_the_bus(tickets, make_routed) -> None:
    event = make_routed(team="service", assignee=None)
    created = await tickets.register(event)
    await tickets.parts.bus.publish(assigned(event.contact.contact_id, "Иванова"))
    for _ in range(200):
        if (await detail(tickets, created.number))["assignee"] == "Иванова":
            break
        await asyncio.sleep(0.05)
    assert (await detail(tickets, created.number))["assignee"] == "Иванова"


async def test_reply_naming_the_customers_message_id_joins_the_ticket(tickets, make_routed) -> None:
    client_id = uuid.uuid4()
    first = make_routed(channel="email", client_id=client_id, key="email:<a1@mail.example.ru>#0f0f",
                        thread=ThreadHint(message_id="<a1@mail.example.ru>"))
    created = await tickets.register(first)
    # The customer answers their own mail (reply-all, a forgotten attachment): In-Reply-To is its Message-ID,
    # which the channel's idempotency key only contains.
    again = make_routed(channel="email", client_id=client_id, first_contact=False, subject="Re: Выгрузка",
                        thread=ThreadHint(in_reply_to="<a1@mail.example.ru>", message_id="<a2@mail.example.ru>"))
    outcome, new = await register_contact(tickets.database.sessions, tickets.inbox, again, tickets.policy)
    assert new and outcome == Appended(created.number, str(again.contact.contact_id))
    async with tickets.database.sessions() as session:
        ids = (await session.execute(select(tables.ticket_messages.c.external_message_id)
                                     .where(tables.ticket_messages.c.direction == "inbound")
                                     .order_by(tables.ticket_messages.c.created_at))).scalars().all()
    assert ids == ["<a1@mail.example.ru>", "<a2@mail.example.ru>"]


def machine(event: ContactRouted, kind: AutomatedKind, *, undeliverable: list[str] | None = None) -> ContactRouted:
    """The contact as the channel marks mail no person wrote."""
    contact = event.contact.model_copy(update={"automated": kind, "undeliverable": undeliverable or []})
    return event.model_copy(update={"contact": contact})


async def count_tickets(tickets) -> int:
    async with tickets.database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(tables.tickets)))


async def test_auto_reply_is_threaded_without_moving_or_answering_the_ticket(tickets, make_routed) -> None:
    client_id = uuid.uuid4()
    created = await tickets.register(make_routed(channel="email", client_id=client_id))
    await move(tickets, created.number, "accept", "start", "wait_for_customer")
    before = await detail(tickets, created.number)

    away = machine(make_routed(channel="email", client_id=client_id, first_contact=False, subject="Автоответ: Выгрузка",
                       body="Я в отпуске до 1 декабря.", thread=ThreadHint(ticket_number=created.number)),
                   AutomatedKind.AUTO_REPLY)
    outcome, new = await register_contact(tickets.database.sessions, tickets.inbox, away, tickets.policy)

    assert new and outcome == Appended(created.number, str(away.contact.contact_id))
    after = await detail(tickets, created.number)
    assert after["status"] == "pending"  # a person's answer would have put it back in work
    assert (after["first_response_due_at"], after["resolution_due_at"], after["status_changed_at"]) == (
        before["first_response_due_at"], before["resolution_due_at"], before["status_changed_at"])
    inbound = [m for m in after["messages"] if m["direction"] == "inbound"]
    assert [m["automated"] for m in inbound] == [None, "auto_reply"]
    outbound = lambda t: [m for m in t["messages"] if m["direction"] == "outbound"]  # noqa: E731
    assert len(outbound(after)) == len(outbound(before))  # no notice answers a machine
    assert after["history"][-1]["action"] == "automated_message"


async def test_machine_mail_that_answers_no_ticket_opens_none_and_is_kept(tickets, make_routed) -> None:
    """Not a ticket of its own (no queue, no notice), not dropped either: the day's closed collector keeps it."""
    stray = machine(make_routed(channel="email", subject="Out of office", body="I am away."),
                    AutomatedKind.AUTO_REPLY)
    outcome, new = await register_contact(tickets.database.sessions, tickets.inbox, stray, tickets.policy)
    assert new and isinstance(outcome, Appended)
    again, new = await register_contact(tickets.database.sessions, tickets.inbox, stray, tickets.policy)
    assert (again, new) == (outcome, False)
    bounce = machine(make_routed(channel="email", subject="Undelivered Mail Returned to Sender"),
                     AutomatedKind.BOUNCE, undeliverable=["nobody@example.ru"])
    second, _ = await register_contact(tickets.database.sessions, tickets.inbox, bounce, tickets.policy)
    assert second == Appended(outcome.number, str(bounce.contact.contact_id))  # one collector a day
    assert await count_tickets(tickets) == 1
    collector = await detail(tickets, outcome.number)
    assert (collector["status"], collector["channel"]) == ("closed", "machine-mail")
    assert [m["automated"] for m in collector["messages"]] == [None, "auto_reply", "bounce"]
    assert all(m["direction"] == "inbound" for m in collector["messages"])  # nothing answered a machine


async def test_bounce_fails_the_reply_it_names_and_flags_the_ticket_until_a_reply_arrives(
    tickets, make_routed
) -> None:
    client_id = uuid.uuid4()
    created = await tickets.register(make_routed(channel="email", client_id=client_id))
    deliveries = Inbox(tables.inbox, handlers.DELIVERIES)
    sessions = tickets.database.sessions

    async def reply(text: str, delivered_as: str) -> str:
        sent = await tickets.client.post(f"/api/v1/tickets/{created.number}/replies", headers=AGENT,
                                         json={"body": text})
        assert sent.status_code == 202, sent.text
        reply_id = sent.json()["reply_id"]
        await handlers.on_delivery_reported(DeliveryReported(
            correlation_id=uuid.uuid4(), channel="email", idempotency_key=f"{reply_id}:delivered",
            ticket_number=created.number, reply_id=reply_id, status=DeliveryStatus.DELIVERED,
            external_message_id=delivered_as), sessions=sessions, inbox=deliveries)
        return reply_id

    first = await reply("Уточните, пожалуйста, номер договора.", "<r1@priyom.example>")
    await reply("Напоминаем о вопросе выше.", "<r2@priyom.example>")
    bounce = machine(make_routed(channel="email", client_id=client_id, first_contact=False,
                                 subject="Undelivered Mail Returned to Sender", body="550 5.1.1 user unknown",
                                 thread=ThreadHint(in_reply_to="<r1@priyom.example>")),
                     AutomatedKind.BOUNCE, undeliverable=["anna@example.ru"])
    outcome, _ = await register_contact(sessions, tickets.inbox, bounce, tickets.policy)
    assert outcome == Appended(created.number, str(bounce.contact.contact_id))

    ticket = await detail(tickets, created.number)
    assert ticket["delivery_failed_at"] is not None
    assert ticket["status"] == "new"
    by_reply = {m["id"]: m for m in ticket["messages"] if m["kind"] == "reply"}
    states = sorted((m["body_text"][:9], m["delivery_status"]) for m in by_reply.values())
    assert states == [("Напоминае", "delivered"), ("Уточните,", "failed")]
    failed = next(m for m in by_reply.values() if m["delivery_status"] == "failed")
    assert failed["delivery_detail"] == "bounce: anna@example.ru"
    line = next(h for h in ticket["history"] if h["action"] == "delivery_failed")
    assert line["details"]["reply_id"] == first

    # A reply sent after the bounce got through: the customer is reachable, the flag goes.
    await reply("Дозвонились, всё решили.", "<r3@priyom.example>")
    assert (await detail(tickets, created.number))["delivery_failed_at"] is None


async def test_bounce_from_the_postmaster_finds_the_ticket_by_our_message_id(tickets, make_routed) -> None:
    created = await tickets.register(make_routed(channel="email"))
    sent = await tickets.client.post(f"/api/v1/tickets/{created.number}/replies", headers=AGENT,
                                     json={"body": "Ответ клиенту"})
    reply_id = sent.json()["reply_id"]
    await handlers.on_delivery_reported(DeliveryReported(
        correlation_id=uuid.uuid4(), channel="email", idempotency_key=f"{reply_id}:delivered",
        ticket_number=created.number, reply_id=reply_id, status=DeliveryStatus.DELIVERED,
        external_message_id=f"reply.{reply_id}@priyom.example"),
        sessions=tickets.database.sessions, inbox=Inbox(tables.inbox, handlers.DELIVERIES))
    # identity made the mail server's postmaster a card of its own: another client than the customer.
    bounce = machine(make_routed(channel="email", subject="Delivery Status Notification (Failure)",
                                 thread=ThreadHint(references=[f"reply.{reply_id}@priyom.example"])),
                     AutomatedKind.BOUNCE, undeliverable=["anna@example.ru"])
    outcome, _ = await register_contact(tickets.database.sessions, tickets.inbox, bounce, tickets.policy)
    assert outcome == Appended(created.number, str(bounce.contact.contact_id))
    reply = next(m for m in (await detail(tickets, created.number))["messages"] if m["kind"] == "reply")
    assert reply["delivery_status"] == "failed"

    # A stranger's auto-reply quoting the number in its subject is not evidence enough.
    stranger = machine(make_routed(channel="email", subject=f"Автоответ: [{created.number}]",
                                   thread=ThreadHint(ticket_number=created.number)), AutomatedKind.AUTO_REPLY)
    outcome, _ = await register_contact(tickets.database.sessions, tickets.inbox, stranger, tickets.policy)
    assert isinstance(outcome, Appended) and outcome.number != created.number  # the day's machine mail
