"""An agent corrects a ticket's type: the status mapping and fields carried over (pure), the endpoint on SQLite
and PostgreSQL (lifecycle, SLA, history, refusals) and ``ticket.type-corrected.v1`` on the real bus."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from priyom_contracts import ContactType, TicketStatus, TicketStatusChanged, TicketTypeCorrected
from priyom_kit.testing import bus_tap
from priyom_tickets import lifecycle, tables, type_fields
from priyom_tickets.sla import load_policy

S = TicketStatus
AGENT = {"Authorization": "Bearer agent-token"}
SUPERVISOR = {"Authorization": "Bearer supervisor-token"}
SERVICE = {"Authorization": "Bearer service-token"}
STANDARD = [ContactType.INFORMATION_REQUEST, ContactType.SERVICE_REQUEST, ContactType.PURCHASE_INTEREST]


@pytest.mark.parametrize(("status", "complaint_status"), [
    (S.NEW, S.NEW), (S.ACCEPTED, S.REVIEW), (S.OPEN, S.REVIEW), (S.PENDING, S.NEEDS_INFO),
    (S.RESOLVED, S.AWAITING_CONFIRMATION)])
def test_a_standard_ticket_becoming_a_complaint_takes_the_nearest_complaint_stage(status: S,
                                                                                 complaint_status: S) -> None:
    assert lifecycle.status_after_retype(ContactType.COMPLAINT, status) == complaint_status
    for other in STANDARD:  # between the standard types nothing moves
        assert lifecycle.status_after_retype(other, status) == status


@pytest.mark.parametrize(("status", "standard_status"), [
    (S.NEW, S.NEW), (S.REVIEW, S.ACCEPTED), (S.NEEDS_INFO, S.PENDING), (S.INVESTIGATION, S.OPEN),
    (S.ACTION_PLAN, S.OPEN), (S.AWAITING_CONFIRMATION, S.RESOLVED), (S.REJECTED, S.RESOLVED)])
def test_a_complaint_becoming_a_standard_type_takes_the_nearest_standard_stage(status: S,
                                                                               standard_status: S) -> None:
    for other in STANDARD:
        assert lifecycle.status_after_retype(other, status) == standard_status


@pytest.mark.parametrize("old", list(ContactType))
@pytest.mark.parametrize("new", list(ContactType))
def test_every_open_status_has_a_place_in_every_other_machine_and_stays_open(old: ContactType,
                                                                            new: ContactType) -> None:
    for status in lifecycle.statuses(old) - lifecycle.FINAL:
        mapped = lifecycle.status_after_retype(new, status)
        assert mapped in lifecycle.statuses(new) - lifecycle.FINAL
        # Waiting for the customer's word stays waiting (the silence timer keeps applying), and the reverse.
        assert (mapped in lifecycle.SILENCE_CLOSES) == (status in lifecycle.SILENCE_CLOSES)


def test_fields_the_new_type_has_are_kept_and_the_others_dropped() -> None:
    complaint = {"claimed_amount": "15000.50", "product": "Котёл КС-20", "resolution": "замена"}
    assert type_fields.carry_over(ContactType.PURCHASE_INTEREST, complaint) == (
        {"product": "Котёл КС-20"}, {"claimed_amount": "15000.50", "resolution": "замена"})
    assert type_fields.carry_over(ContactType.INFORMATION_REQUEST, {"contract_number": "СО-1"}) == (
        {}, {"contract_number": "СО-1"})
    assert type_fields.carry_over(ContactType.COMPLAINT, {}) == ({}, {})


async def move(tickets, number: str, *steps: dict) -> None:  # noqa: ANN001 - the conftest fixture
    for step in steps:
        moved = await tickets.client.post(f"/api/v1/tickets/{number}/transitions", headers=AGENT, json=step)
        assert moved.status_code == 200, moved.text


async def test_complaint_under_investigation_becomes_a_service_request_in_progress(tickets, make_routed) -> None:
    created = await tickets.register(make_routed(type=ContactType.COMPLAINT, category="complaint"))
    number = created.number
    await move(tickets, number, {"action": "review"}, {"action": "investigate", "decision": "in_work"})
    fields = await tickets.client.put(f"/api/v1/tickets/{number}/fields", headers=AGENT,
                                      json={"claimed_amount": "1200", "product": "Котёл"})
    assert fields.status_code == 200, fields.text
    before = (await tickets.client.get(f"/api/v1/tickets/{number}", headers=AGENT)).json()
    assert sorted(before["type_choices"]) == sorted(t.value for t in STANDARD)

    answer = await tickets.client.post(f"/api/v1/tickets/{number}/type", headers=AGENT,
                                       json={"type": "service_request", "note": "Это плановое обслуживание"})

    assert answer.status_code == 200, answer.text
    ticket = answer.json()
    assert (ticket["type"], ticket["status"], ticket["category"]) == ("service_request", "open", "service_request")
    assert ticket["type_fields"] == {}  # neither field exists on a service request
    assert sorted(a["name"] for a in ticket["actions"]) == ["cancel", "resolve", "wait_for_customer"]
    assert "service_request" not in ticket["type_choices"]
    changed, dropped = ticket["history"][-2:]
    assert (changed["action"], changed["actor"], changed["from_status"], changed["to_status"]) == (
        "type_changed", "Иванова", "investigation", "open")
    assert changed["details"]["from_type"] == "complaint" and changed["details"]["to_type"] == "service_request"
    assert (changed["details"]["from_category"], changed["details"]["note"]) == ("complaint",
                                                                                "Это плановое обслуживание")
    assert dropped["action"] == "fields_dropped"
    assert dropped["details"]["fields"] == {"claimed_amount": "1200", "product": "Котёл"}
    # The SLA follows the type: recomputed from registration by the service's policy (the built-in one).
    assert ticket["created_at"] == before["created_at"]
    due = load_policy(None, tickets.policy.zone).due("standard", "service_request",
                                                     datetime.fromisoformat(before["created_at"]))
    assert (moment(ticket["first_response_due_at"]), moment(ticket["resolution_due_at"])) == due
    assert moment(changed["details"]["sla"]["resolution_due_at"]) == due[1]


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_a_category_of_its_own_stays_and_a_given_one_wins(tickets, make_routed) -> None:
    kept = await tickets.register(make_routed(category="boilers"))  # a rule's category, not the type's name
    answer = await tickets.client.post(f"/api/v1/tickets/{kept.number}/type", headers=AGENT,
                                       json={"type": "information_request"})
    assert (answer.json()["type"], answer.json()["category"], answer.json()["status"]) == (
        "information_request", "boilers", "new")
    given = await tickets.client.post(f"/api/v1/tickets/{kept.number}/type", headers=AGENT,
                                      json={"type": "purchase_interest", "category": "burners"})
    assert given.json()["category"] == "burners"


async def test_refused_for_a_finished_ticket_the_same_type_an_unknown_type_and_non_staff(
    tickets, make_routed
) -> None:
    created = await tickets.register(make_routed())
    url = f"/api/v1/tickets/{created.number}/type"

    same = await tickets.client.post(url, headers=AGENT, json={"type": "service_request"})
    assert same.status_code == 409 and "already a service_request" in same.json()["detail"]
    unknown = await tickets.client.post(url, headers=AGENT, json={"type": "gossip"})
    assert unknown.status_code == 422
    assert (await tickets.client.post(url, headers=SERVICE, json={"type": "complaint"})).status_code == 403
    assert (await tickets.client.post(url, json={"type": "complaint"})).status_code == 401
    missing = await tickets.client.post(url.replace(created.number, created.number[:5] + "999999"),
                                        headers=AGENT, json={"type": "complaint"})
    assert missing.status_code == 404

    await move(tickets, created.number, {"action": "cancel", "decision": "duplicate"})
    closed = await tickets.client.post(url, headers=SUPERVISOR, json={"type": "complaint"})
    assert closed.status_code == 409 and "cancelled" in closed.json()["detail"]
    ticket = (await tickets.client.get(f"/api/v1/tickets/{created.number}", headers=SUPERVISOR)).json()
    assert ticket["type"] == "service_request" and ticket["type_choices"] == []
    assert not [h for h in ticket["history"] if h["action"] == "type_changed"]


async def test_the_correction_reaches_the_bus_with_the_first_message_cut_to_4000_characters(
    tickets, make_routed, amqp_url: str
) -> None:
    body = "Котёл КС-20 течёт после ремонта, требую замену. " * 120  # ~5,900 characters
    created = await tickets.register(make_routed(channel="email", body=body, subject="Претензия по котлу",
                                                 category="service"))
    await move(tickets, created.number, {"action": "accept"})
    async with bus_tap(amqp_url, tickets.prefix, "ticket.type-corrected.v1.*") as corrections, \
            bus_tap(amqp_url, tickets.prefix, "ticket.status-changed.v1.*") as statuses:
        refused = await tickets.client.post(f"/api/v1/tickets/{created.number}/type", headers=SERVICE,
                                            json={"type": "complaint"})
        assert refused.status_code == 403
        answer = await tickets.client.post(f"/api/v1/tickets/{created.number}/type", headers=AGENT,
                                           json={"type": "complaint"})
        assert answer.status_code == 200, answer.text

        message = await corrections.next()
        corrected = TicketTypeCorrected.model_validate_json(message.body)
        assert (message.type, message.routing_key) == ("ticket.type-corrected.v1", "ticket.type-corrected.v1.email")
        assert (corrected.number, corrected.contact_id, corrected.correlation_id) == (
            created.number, created.contact_id, created.contact_id)
        assert (corrected.old_type, corrected.new_type, corrected.corrected_by) == (
            ContactType.SERVICE_REQUEST, ContactType.COMPLAINT, "Иванова")
        assert corrected.subject == "Претензия по котлу"
        assert corrected.text == body[:4000] and len(body) > 4000
        await corrections.assert_empty()  # once: the refused call staged nothing

        # Accepted has no place in a complaint's machine: it is in review now, and the router hears that too.
        changed = TicketStatusChanged.model_validate_json((await statuses.next()).body)
        assert (changed.old_status, changed.new_status, changed.changed_by) == (S.ACCEPTED, S.REVIEW, "Иванова")
    assert answer.json()["status"] == "review"
    async with tickets.database.sessions() as session:
        sent = (await session.execute(select(tables.ticket_outbox.c.published_at).where(
            tables.ticket_outbox.c.event_type == "ticket.type-corrected.v1"))).scalars().all()
    assert len(sent) == 1 and sent[0] is not None  # written with the change, marked once published
