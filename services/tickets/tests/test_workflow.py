"""Working a ticket through the API on SQLite and PostgreSQL: lifecycle moves with their audit history,
decisions, customer notices and replies on the ticket's channel, follow-up contacts, closing after silence."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from priyom_contracts import ContactType, OutboundReply, Reach, Sender, ThreadHint, utcnow
from priyom_tickets import changes, tables
from priyom_tickets.arrivals import Appended, register_contact
from priyom_tickets.sla import load_policy

AGENT = {"Authorization": "Bearer agent-token"}


async def move(tickets, number: str, action: str, expect: int = 200, **fields: Any) -> dict:
    response = await tickets.client.post(f"/api/v1/tickets/{number}/transitions", headers=AGENT,
                                         json={"action": action, **fields})
    assert response.status_code == expect, response.text
    return response.json()


async def ticket(tickets, number: str) -> dict:
    response = await tickets.client.get(f"/api/v1/tickets/{number}", headers=AGENT)
    assert response.status_code == 200, response.text
    return response.json()


async def staged(tickets) -> list[dict]:
    async with tickets.database.sessions() as session:
        rows = await session.execute(select(tables.ticket_outbox).order_by(tables.ticket_outbox.c.id))
        return [dict(r) for r in rows.mappings()]


@pytest.mark.parametrize("ticket_type", [ContactType.INFORMATION_REQUEST, ContactType.SERVICE_REQUEST,
                                         ContactType.PURCHASE_INTEREST])
async def test_standard_ticket_from_registration_to_closing(tickets, make_routed, ticket_type) -> None:
    created = await tickets.register(make_routed(type=ticket_type))
    number = created.number
    first = await ticket(tickets, number)
    assert [a["name"] for a in first["actions"]] == ["accept", "cancel"]

    for action in ("accept", "start", "wait_for_customer", "start"):
        await move(tickets, number, action)
    resolved = await move(tickets, number, "resolve", decision="consulted", decision_text="Объяснили порядок",
                          result="Клиент получил инструкцию")
    assert (resolved["status"], resolved["decision"], resolved["result"]) == (
        "resolved", "consulted", "Клиент получил инструкцию")
    assert resolved["resolved_at"] is not None
    closed = await move(tickets, number, "close")
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    assert closed["actions"] == []

    history = [(h["action"], h["from_status"], h["to_status"], h["actor"]) for h in closed["history"]]
    assert history == [
        ("registered", None, "new", "tickets"),
        ("accept", "new", "accepted", "Иванова"),
        ("start", "accepted", "open", "Иванова"),
        ("wait_for_customer", "open", "pending", "Иванова"),
        ("start", "pending", "open", "Иванова"),
        ("resolve", "open", "resolved", "Иванова"),
        ("close", "resolved", "closed", "Иванова"),
    ]
    assert closed["history"][5]["details"]["decision_text"] == "Объяснили порядок"
    # Each move is announced once on the bus, in order.
    changes = [e["payload"] for e in await staged(tickets) if e["event_type"] == "ticket.status-changed.v1"]
    assert [(c["old_status"], c["new_status"]) for c in changes] == [h[1:3] for h in history[1:]]
    assert {c["number"] for c in changes} == {number}


async def test_complaint_loop_through_the_api(tickets, make_routed) -> None:
    number = (await tickets.register(make_routed(type=ContactType.COMPLAINT, category="complaint"))).number
    await move(tickets, number, "accept", expect=409)  # not a complaint's step
    await move(tickets, number, "review")
    await move(tickets, number, "request_info", note="Нужны фото шильдика")
    await move(tickets, number, "info_received")
    await move(tickets, number, "investigate", expect=409)  # needs a decision
    await move(tickets, number, "investigate", decision="in_work")
    for _ in range(2):  # the customer declines the plan twice, then accepts it
        await move(tickets, number, "plan")
        await move(tickets, number, "propose")
        await move(tickets, number, "customer_declined", on_behalf_of_customer=True)
    await move(tickets, number, "plan")
    await move(tickets, number, "propose")
    done = await move(tickets, number, "close", on_behalf_of_customer=True, note="Клиент подтвердил по телефону")

    assert done["status"] == "closed"
    statuses = [h["to_status"] for h in done["history"]]
    assert statuses == ["new", "review", "needs_info", "review", "investigation",
                        "action_plan", "awaiting_confirm", "investigation",
                        "action_plan", "awaiting_confirm", "investigation",
                        "action_plan", "awaiting_confirm", "closed"]
    assert done["history"][-1]["details"] == {"note": "Клиент подтвердил по телефону", "by": "customer"}


async def test_rejected_complaint_keeps_its_reason(tickets, make_routed) -> None:
    number = (await tickets.register(make_routed(type=ContactType.COMPLAINT))).number
    await move(tickets, number, "review")
    await move(tickets, number, "reject", expect=422, decision="no-such-code")
    rejected = await move(tickets, number, "reject", decision="reject_deadline",
                          decision_text="Гарантийный срок истёк 01.03.2026")
    assert (rejected["status"], rejected["decision"]) == ("rejected", "reject_deadline")
    assert [a["name"] for a in rejected["actions"]] == ["close"]
    decisions = (await tickets.client.get("/api/v1/decisions", headers=AGENT)).json()
    assert decisions["reject_deadline"] == "Отказ — не проходим по срокам"


async def test_moves_are_refused_precisely(tickets, make_routed) -> None:
    number = (await tickets.register(make_routed())).number
    refused = await tickets.client.post(f"/api/v1/tickets/{number}/transitions", headers=AGENT,
                                        json={"action": "close"})
    assert refused.status_code == 409
    assert "not allowed from status 'new'" in refused.json()["detail"]
    assert (await tickets.client.post("/api/v1/tickets/1999-000001/transitions", headers=AGENT,
                                      json={"action": "accept"})).status_code == 404
    assert (await tickets.client.post(f"/api/v1/tickets/{number}/transitions", headers=AGENT,
                                      json={"action": "x" * 65})).status_code == 422
    assert (await tickets.client.post(f"/api/v1/tickets/{number}/transitions",
                                      json={"action": "accept"})).status_code == 401
    after = await ticket(tickets, number)
    assert after["status"] == "new" and len(after["history"]) == 1


async def test_customer_hears_of_registration_and_changes_on_their_channel(tickets, make_routed) -> None:
    email = await tickets.register(make_routed(channel="email", key="<q1@mail.example.ru>",
                                               thread=ThreadHint(external_thread_id="<q1@mail.example.ru>")))
    web = await tickets.register(make_routed(channel="web"))
    await move(tickets, email.number, "accept")
    await move(tickets, web.number, "accept")

    thread = (await ticket(tickets, email.number))["messages"]
    notices = [m for m in thread if m["direction"] == "outbound"]
    assert [m["kind"] for m in notices] == ["notice", "notice"]
    assert email.number in notices[0]["body_text"] and "зарегистрировано" in notices[0]["body_text"]
    assert "принято" in notices[1]["body_text"]
    assert all(m["delivery_status"] == "queued" for m in notices)
    # The web form has no way back, but the customer left an e-mail on it: the notices go there.
    web_thread = (await ticket(tickets, web.number))["messages"]
    assert [(m["direction"], m["channel"]) for m in web_thread] == [("inbound", "web"), ("outbound", "email"),
                                                                    ("outbound", "email")]
    replies = [OutboundReply.model_validate(e["payload"]) for e in await staged(tickets)
               if e["event_type"] == "reply.outbound.v1"]
    assert sorted((r.ticket_number, r.channel) for r in replies) == sorted(
        [(email.number, "email")] * 2 + [(web.number, "email")] * 2)
    on_email = [r for r in replies if r.ticket_number == email.number]
    assert on_email[0].recipient.email == "anna@example.ru"
    assert on_email[0].recipient.external_thread_id == "<q1@mail.example.ru>"
    assert on_email[0].in_reply_to == "<q1@mail.example.ru>"
    # Plain: the e-mail channel puts the number in once, as [#2026-000123] (it used to be there twice).
    assert on_email[0].subject == "Выгрузка отчётов"
    on_web = [r for r in replies if r.ticket_number == web.number]
    assert on_web[0].recipient.email == "anna@example.ru" and on_web[0].in_reply_to is None
    assert all(r.automatic and not r.survey for r in replies)  # notices, not the closing survey


async def test_a_caller_whose_card_has_an_email_hears_of_the_ticket_by_email(tickets, make_routed) -> None:
    call = make_routed(channel="phone", sender=Sender(phone="+79160000002"))
    call = call.model_copy(update={"client": call.client.model_copy(
        update={"reach": Reach(email="oleg@example.ru", phone="+79160000002")})})
    created = await tickets.register(call)
    await move(tickets, created.number, "accept")
    notices = [m for m in (await ticket(tickets, created.number))["messages"] if m["direction"] == "outbound"]
    assert [(m["kind"], m["channel"]) for m in notices] == [("notice", "email")] * 2
    replies = [OutboundReply.model_validate(e["payload"]) for e in await staged(tickets)
               if e["event_type"] == "reply.outbound.v1" and e["payload"]["ticket_number"] == created.number]
    assert {r.recipient.email for r in replies} == {"oleg@example.ru"}


async def test_agent_reply_goes_on_the_tickets_channel(tickets, make_routed) -> None:
    email = await tickets.register(make_routed(channel="email"))
    web = await tickets.register(make_routed(channel="web"))
    phone_only = await tickets.register(make_routed(channel="web", sender=Sender(name="Олег", phone="+79160000001")))
    nothing = await tickets.register(make_routed(channel="web", sender=Sender(name="Аноним")))
    sent = await tickets.client.post(f"/api/v1/tickets/{email.number}/replies", headers=AGENT,
                                     json={"body": "Добрый день! Проверили, выгрузка работает."})
    assert sent.status_code == 202, sent.text
    assert sent.json()["channel"] == "email"
    after = await ticket(tickets, email.number)
    reply = after["messages"][-1]
    assert (reply["direction"], reply["kind"], reply["author_name"]) == ("outbound", "reply", "Иванова")
    assert after["first_responded_at"] is not None
    assert after["history"][-1]["action"] == "reply"
    staged_ids = [e["payload"]["reply_id"] for e in await staged(tickets) if e["event_type"] == "reply.outbound.v1"]
    assert sent.json()["reply_id"] in staged_ids

    # The web form has no way back: the e-mail the customer left on it carries the reply.
    path = (await tickets.client.get(f"/api/v1/tickets/{web.number}/reply-path", headers=AGENT)).json()
    assert (path["channel"], path["address"], path["call_back"]) == ("email", "anna@example.ru", False)
    by_mail = await tickets.client.post(f"/api/v1/tickets/{web.number}/replies", headers=AGENT,
                                        json={"body": "Ответ"})
    assert by_mail.status_code == 202 and by_mail.json()["channel"] == "email"
    # Only a phone: a call-back activity carries the reply, in the agent's list.
    path = (await tickets.client.get(f"/api/v1/tickets/{phone_only.number}/reply-path", headers=AGENT)).json()
    assert (path["channel"], path["address"], path["call_back"]) == ("phone", "+79160000001", True)
    called = await tickets.client.post(f"/api/v1/tickets/{phone_only.number}/replies", headers=AGENT,
                                       json={"body": "Перезвоним и расскажем"})
    assert called.status_code == 202 and called.json()["channel"] == "phone" and called.json()["call_back"]
    activities = (await ticket(tickets, phone_only.number))["activities"]
    assert [(a["kind"], a["owner"]) for a in activities] == [("call_back", "Иванова")]
    assert "+79160000001" in activities[0]["title"]
    # No address of any kind: nothing can carry it, and the console is told so before the agent writes.
    assert (await tickets.client.get(f"/api/v1/tickets/{nothing.number}/reply-path",
                                     headers=AGENT)).json()["channel"] is None
    no_way_back = await tickets.client.post(f"/api/v1/tickets/{nothing.number}/replies", headers=AGENT,
                                            json={"body": "Ответ"})
    assert no_way_back.status_code == 409
    for bad in ({"body": ""}, {"body": "x" * 100_001}, {}):
        assert (await tickets.client.post(f"/api/v1/tickets/{email.number}/replies", headers=AGENT,
                                          json=bad)).status_code == 422


async def test_customer_answer_to_a_resolved_ticket_reopens_or_confirms_it(tickets, make_routed) -> None:
    """By any channel: a web-form ticket answered by e-mail (the number quoted, as the notice asks)."""
    client = uuid.uuid4()
    numbers = []
    for _ in range(2):
        created = await tickets.register(make_routed(client_id=client, channel="web"))
        await move(tickets, created.number, "accept")
        await move(tickets, created.number, "resolve", decision="fixed")
        numbers.append(created.number)
    doubting, confirming = numbers

    async def answer(number: str, body: str) -> None:
        outcome, _ = await register_contact(tickets.database.sessions, tickets.inbox, make_routed(
            client_id=client, channel="email", body=body, thread=ThreadHint(ticket_number=number)), tickets.policy)
        assert outcome == Appended(number, str(outcome.contact_id))

    await answer(doubting, "Спасибо, но выгрузка всё ещё не работает")
    await answer(confirming, "Спасибо, всё работает!")
    reopened, confirmed = await ticket(tickets, doubting), await ticket(tickets, confirming)
    assert reopened["status"] == "open" and reopened["history"][-1]["action"] == "reopen"
    assert confirmed["status"] == "closed" and confirmed["history"][-1]["action"] == "close"
    assert confirmed["history"][-1]["actor"] == "customer"


async def test_follow_up_contacts_join_the_open_ticket_of_the_same_client(tickets, make_routed) -> None:
    client = uuid.uuid4()
    first = await tickets.register(make_routed(client_id=client, channel="telegram",
                                               thread=ThreadHint(external_thread_id="chat-42")))
    await move(tickets, first.number, "accept")
    await move(tickets, first.number, "start")
    await move(tickets, first.number, "wait_for_customer")

    async def arrive(event) -> Any:
        outcome, new = await register_contact(tickets.database.sessions, tickets.inbox, event, tickets.policy)
        assert new
        return outcome

    # The same chat: appended, and the ticket waiting for the customer goes back to work.
    in_chat = make_routed(client_id=client, channel="telegram", body="Вот скриншот",
                          thread=ThreadHint(external_thread_id="chat-42"))
    assert await arrive(in_chat) == Appended(first.number, str(in_chat.contact.contact_id))
    # The number quoted on another channel: appended too.
    quoted = make_routed(client_id=client, channel="email", thread=ThreadHint(ticket_number=first.number))
    assert isinstance(await arrive(quoted), Appended)
    # Someone else quoting the number, or the same chat id on another channel: a ticket of their own.
    stranger = await arrive(make_routed(thread=ThreadHint(ticket_number=first.number)))
    other_channel = await arrive(make_routed(client_id=client, channel="vk",
                                             thread=ThreadHint(external_thread_id="chat-42")))
    assert stranger.number != first.number and other_channel.number != first.number

    after = await ticket(tickets, first.number)
    assert after["status"] == "open"
    inbound = [m for m in after["messages"] if m["direction"] == "inbound"]
    assert [m["channel"] for m in inbound] == ["telegram", "telegram", "email"]
    assert [h["action"] for h in after["history"]][-3:] == ["customer_message", "customer_replied",
                                                            "customer_message"]
    lookup = await tickets.client.get(f"/api/v1/contacts/{quoted.contact.contact_id}/ticket", headers=AGENT)
    assert lookup.json()["number"] == first.number
    # A redelivered follow-up changes nothing.
    again, new = await register_contact(tickets.database.sessions, tickets.inbox, in_chat, tickets.policy)
    assert (again, new) == (Appended(first.number, str(in_chat.contact.contact_id)), False)
    assert len((await ticket(tickets, first.number))["messages"]) == len(after["messages"])

    # Once closed, the chat starts a new ticket.
    await move(tickets, first.number, "cancel", decision="withdrawn")
    later = await arrive(make_routed(client_id=client, channel="telegram",
                                     thread=ThreadHint(external_thread_id="chat-42")))
    assert later.number not in (first.number, stranger.number, other_channel.number)


async def test_silence_closes_what_waits_for_the_customer(tickets, make_routed) -> None:
    waiting = (await tickets.register(make_routed())).number
    fresh = (await tickets.register(make_routed())).number
    working = (await tickets.register(make_routed())).number
    for number in (waiting, fresh):
        await move(tickets, number, "accept")
        await move(tickets, number, "resolve", decision="fixed")
    await move(tickets, working, "accept")
    async with tickets.database.sessions() as session:
        for number in (waiting, working):
            await session.execute(tables.tickets.update().where(tables.tickets.c.number == number)
                                  .values(status_changed_at=utcnow() - timedelta(days=8)))
        await session.commit()
        closed = await changes.close_silent(session, silence=timedelta(days=7), policy=tickets.policy,
                                             now=utcnow())
        await session.commit()
    assert closed == [waiting]
    statuses = {n: (await ticket(tickets, n))["status"] for n in (waiting, fresh, working)}
    assert statuses == {waiting: "closed", fresh: "resolved", working: "accepted"}
    last = (await ticket(tickets, waiting))["history"][-1]
    assert (last["actor"], last["details"]["by"]) == ("tickets", "system")


async def test_deadlines_follow_business_hours_at_registration(tickets, make_routed) -> None:
    policy = replace(tickets.policy, sla=load_policy(None, tickets.policy.zone))
    event = make_routed(type=ContactType.COMPLAINT)
    created, _ = await register_contact(tickets.database.sessions, tickets.inbox, event, policy)
    detail = await ticket(tickets, created.number)
    registered = datetime.fromisoformat(detail["created_at"])
    first, resolution = policy.sla.due("standard", "complaint", registered)
    assert datetime.fromisoformat(detail["first_response_due_at"]) == first
    assert datetime.fromisoformat(detail["resolution_due_at"]) == resolution
    assert detail["sla_tier"] == "standard"
    assert created.first_response_due_at == event.routing.first_response_due_at  # the event tells the router's
    assert detail["history"][0]["details"]["sla"] == "business hours"
    # 4 working hours, and 45 for a complaint, never less in wall time.
    assert first - registered >= timedelta(hours=4)
    assert resolution - registered >= timedelta(hours=45)


async def test_overdue_tickets_are_marked_once_and_escalated_to_the_team_head(tickets, make_routed) -> None:
    now = utcnow()
    policy = replace(tickets.policy, team_heads={"service": "Петров"})
    late = (await tickets.register(make_routed(resolution_due_at=now - timedelta(minutes=1)))).number
    unanswered = (await tickets.register(make_routed(team="sales", assignee="Сидорова",
                                                     first_response_due_at=now - timedelta(minutes=1)))).number
    answered = (await tickets.register(make_routed(channel="email",
                                                   first_response_due_at=now + timedelta(minutes=1)))).number
    sent = await tickets.client.post(f"/api/v1/tickets/{answered}/replies", headers=AGENT, json={"body": "Ок"})
    assert sent.status_code == 202
    resolved_late = (await tickets.register(make_routed(resolution_due_at=now - timedelta(days=1)))).number
    await move(tickets, resolved_late, "accept")
    await move(tickets, resolved_late, "resolve", decision="fixed")

    async with tickets.database.sessions() as session:
        found = await changes.mark_overdue(session, policy=policy, now=utcnow() + timedelta(minutes=2))
        await session.commit()
        again = await changes.mark_overdue(session, policy=policy, now=utcnow() + timedelta(minutes=3))
    assert sorted(found) == sorted([late, unanswered])  # the answered one is late for nothing yet
    assert again == []

    late_detail = await ticket(tickets, late)
    assert late_detail["overdue_at"] is not None
    assert (late_detail["escalation"], late_detail["escalated_to"]) == ("team_head", "Петров")
    overdue_line, escalated_line = late_detail["history"][-2:]
    assert overdue_line["action"] == "overdue"
    assert overdue_line["details"] == {"deadline": "resolution", "notified": "service"}
    assert escalated_line["details"]["to"] == "Петров"
    sales = await ticket(tickets, unanswered)
    assert sales["history"][-1]["details"] == {"deadline": "first_response", "notified": "Сидорова"}
    assert sales["escalation"] is None  # no head configured for sales: marked, not escalated
    listed = (await tickets.client.get("/api/v1/tickets", params={"overdue": "true"}, headers=AGENT)).json()
    assert sorted(i["number"] for i in listed["items"]) == sorted([late, unanswered])


async def test_escalation_to_second_line_or_vendor_is_recorded(tickets, make_routed) -> None:
    number = (await tickets.register(make_routed(assignee="Иванова"))).number
    path = f"/api/v1/tickets/{number}/escalations"
    response = await tickets.client.post(path, headers=AGENT, json={"level": "vendor", "to": "ООО Вендор, кейс 8812",
                                                                     "note": "Заводской брак платы"})
    assert response.status_code == 200, response.text
    assert (response.json()["escalation"], response.json()["escalated_to"]) == ("vendor", "ООО Вендор, кейс 8812")
    assert response.json()["history"][-1]["details"] == {"level": "vendor", "to": "ООО Вендор, кейс 8812",
                                                          "note": "Заводской брак платы"}
    assert response.json()["assignee"] == "Иванова", "a vendor's case stays with its agent"
    for bad in ({"level": "boss", "to": "x"}, {"level": "vendor", "to": ""}, {"level": "vendor"}):
        assert (await tickets.client.post(path, headers=AGENT, json=bad)).status_code == 422
    # The second line is a team here: the ticket goes to its queue, and the first line no longer has it.
    second = await tickets.client.post(path, headers=AGENT, json={"level": "second_line", "to": "L2"})
    assert second.status_code == 200, second.text
    assert (second.json()["escalation"], second.json()["team"], second.json()["assignee"]) == ("second_line", "L2",
                                                                                                None)
    assert second.json()["history"][-1]["details"]["reason"] == "эскалация (second_line): L2"
    assert (await tickets.client.get(f"/api/v1/tickets/{number}", headers=AGENT)).status_code == 404
    supervisor = {"Authorization": "Bearer supervisor-token"}
    cancelled = await tickets.client.post(f"/api/v1/tickets/{number}/transitions", headers=supervisor,
                                          json={"action": "cancel", "decision": "duplicate"})
    assert cancelled.status_code == 200, cancelled.text
    assert (await tickets.client.post(path, headers=supervisor, json={"level": "vendor", "to": "x"})
            ).status_code == 409


async def test_a_vendor_s_deadline_becomes_the_agent_s_task(tickets, make_routed) -> None:
    number = (await tickets.register(make_routed(assignee="Иванова"))).number
    path = f"/api/v1/tickets/{number}/escalations"
    due = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    refused = await tickets.client.post(path, headers=AGENT, json={"level": "second_line", "to": "L2",
                                                                    "due_at": due.isoformat()})
    assert refused.status_code == 422, "a deadline belongs to a vendor's case only"
    response = await tickets.client.post(path, headers={"Authorization": "Bearer supervisor-token"},
                                         json={"level": "vendor", "to": "ООО Вендор, кейс 8812",
                                               "due_at": due.isoformat()})
    assert response.status_code == 200, response.text
    [task] = response.json()["activities"]
    assert (task["kind"], task["title"], task["owner"]) == ("task", "Ответ поставщика: ООО Вендор, кейс 8812",
                                                            "Иванова"), "the agent following the case, not the escalator"
    assert datetime.fromisoformat(task["due_at"]) == due
    listed = await tickets.client.get("/api/v1/activities", headers=AGENT)
    assert [a["title"] for a in listed.json()] == ["Ответ поставщика: ООО Вендор, кейс 8812"]


async def test_escalation_to_the_team_head_hands_the_ticket_to_the_head(tickets, make_routed) -> None:
    admin = {"Authorization": "Bearer admin-token"}
    for name, role in (("Петров", "team_head"), ("Сидорова", "engineer")):
        made = await tickets.client.post("/api/v1/staff", headers=admin,
                                         json={"name": name, "role": role, "teams": ["service"]})
        assert made.status_code == 201, made.text
    number = (await tickets.register(make_routed(assignee="Иванова"))).number
    path = f"/api/v1/tickets/{number}/escalations"
    to_head = await tickets.client.post(path, headers=AGENT, json={"level": "team_head", "to": "Петров"})
    assert to_head.status_code == 200, to_head.text
    assert (to_head.json()["assignee"], to_head.json()["team"]) == ("Петров", "service")
    # A member of staff named as the second line takes it over within the team.
    to_engineer = await tickets.client.post(path, headers={"Authorization": "Bearer supervisor-token"},
                                            json={"level": "second_line", "to": "Сидорова"})
    assert (to_engineer.json()["assignee"], to_engineer.json()["team"]) == ("Сидорова", "service")
    # Nobody by that name and no head configured: recorded, and the ticket stays where it is.
    other = (await tickets.register(make_routed(team="sales", assignee="Иванова"))).number
    kept = await tickets.client.post(f"/api/v1/tickets/{other}/escalations", headers=AGENT,
                                     json={"level": "team_head", "to": "Начальник продаж"})
    assert (kept.json()["escalation"], kept.json()["assignee"]) == ("team_head", "Иванова")




async def test_an_escalation_mails_whom_it_reaches_in_their_language(tickets, make_routed) -> None:
    admin = {"Authorization": "Bearer admin-token"}
    for name, role, email in (("Петров", "team_head", "petrov@example.ru"), ("Сидорова", "engineer", None),
                              ("Орлов", "engineer", "orlov@example.ru")):
        made = await tickets.client.post("/api/v1/staff", headers=admin, json={
            "name": name, "role": role, "teams": ["service"], **({"email": email} if email else {})})
        assert made.status_code == 201, made.text
        assert made.json()["email"] == email
    bad = await tickets.client.patch("/api/v1/staff/Сидорова", headers=admin, json={"email": "not an address"})
    assert bad.status_code == 422
    changed = await tickets.client.patch("/api/v1/staff/Орлов", headers=admin, json={"email": "orlov@example.com"})
    assert (changed.json()["email"], changed.json()["extension"]) == ("orlov@example.com", None)
    async with tickets.database.sessions() as session:  # he chose English for his console
        await session.execute(tables.staff.update().where(tables.staff.c.name == "Орлов").values(locale="en"))
        await session.commit()

    number = (await tickets.register(make_routed(assignee="Иванова", subject="Касса не печатает"))).number
    path = f"/api/v1/tickets/{number}/escalations"
    before = len(await staged(tickets))
    for body in ({"level": "vendor", "to": "ООО Вендор"},  # stays with her: nobody to tell
                 {"level": "second_line", "to": "Сидорова"},  # no address on her account: her console only
                 {"level": "team_head", "to": "Петров", "note": "Клиент ждёт с утра"},
                 {"level": "second_line", "to": "Орлов"}):
        moved = await tickets.client.post(path, headers=admin if body["to"] != "ООО Вендор" else AGENT, json=body)
        assert moved.status_code == 200, moved.text
    notices = [row["payload"] for row in (await staged(tickets))[before:] if row["event_type"] == "staff.notice.v1"]
    assert [(n["email"], n["subject"]) for n in notices] == [
        ("petrov@example.ru", f"Обращение {number} эскалировано вам"),
        ("orlov@example.com", f"Ticket {number} is escalated to you")]
    assert "Клиент ждёт с утра" in notices[0]["body"] and "Касса не печатает" in notices[0]["body"]
    assert notices[1]["ticket_number"] == number and "to the second line" in notices[1]["body"]
