"""The portal's customer routes (``/api/v1/customer/tickets``) on SQLite and PostgreSQL: only a service
credential reads them, a card sees its own tickets (a person only theirs when the portal narrows to them), another
card's number is a 404, and the thread never carries an internal note nor a machine's message."""

from __future__ import annotations

import uuid

from priyom_contracts import AutomatedKind, CustomerTicket, CustomerTicketList, ThreadHint
from priyom_tickets.arrivals import register_contact

from .conftest import MakeRouted, Tickets

SERVICE = {"Authorization": "Bearer service-token"}
AGENT = {"Authorization": "Bearer agent-token"}
NOTE = "Клиент конфликтный, скидку не предлагать"


async def test_a_customer_reads_their_own_tickets_without_internal_notes(tickets: Tickets,
                                                                          make_routed: MakeRouted) -> None:
    client_id, other_card = uuid.uuid4(), uuid.uuid4()
    mine = (await tickets.register(make_routed(client_id=client_id, channel="email"))).number
    theirs = (await tickets.register(make_routed(client_id=other_card, channel="email"))).number

    noted = await tickets.client.post(f"/api/v1/tickets/{mine}/notes", headers=AGENT, json={"body": NOTE})
    assert noted.status_code == 201, noted.text
    replied = await tickets.client.post(f"/api/v1/tickets/{mine}/replies", headers=AGENT,
                                        json={"body": "Проверьте, пожалуйста, ещё раз."})
    assert replied.status_code == 202, replied.text
    # An out-of-office answer lands on the thread for the agent; the customer's own view leaves it out.
    away = make_routed(client_id=client_id, channel="email", first_contact=False, body="Я в отпуске до 10-го",
                       thread=ThreadHint(ticket_number=mine))
    away = away.model_copy(update={"contact": away.contact.model_copy(
        update={"automated": AutomatedKind.AUTO_REPLY})})
    await register_contact(tickets.database.sessions, tickets.inbox, away, tickets.policy)
    for move in ("accept", "start"):
        moved = await tickets.client.post(f"/api/v1/tickets/{mine}/transitions", headers=AGENT,
                                          json={"action": move})
        assert moved.status_code == 200, moved.text

    listed = await tickets.client.get("/api/v1/customer/tickets", headers=SERVICE,
                                      params={"client_id": str(client_id)})
    assert listed.status_code == 200, listed.text
    assert [t.number for t in CustomerTicketList.model_validate(listed.json()).items] == [mine]

    detail = await tickets.client.get(f"/api/v1/customer/tickets/{mine}", headers=SERVICE,
                                      params={"client_id": str(client_id)})
    assert detail.status_code == 200, detail.text
    assert NOTE not in detail.text and "отпуске" not in detail.text
    ticket = CustomerTicket.model_validate(detail.json())
    bodies = [(m.direction, m.body) for m in ticket.messages]
    assert bodies[0] == ("inbound", "Здравствуйте! Не работает выгрузка отчётов с утра.")
    assert ("outbound", "Проверьте, пожалуйста, ещё раз.") in bodies
    moves = [h.to_status for h in ticket.history]
    assert moves[0] == "new" and moves[-1] == ticket.status and len(moves) >= 2
    assert ticket.status == "open" and not ticket.awaits_verdict and not ticket.rateable

    # Another card's ticket is no ticket at all for this customer; a person narrows to their own.
    other = await tickets.client.get(f"/api/v1/customer/tickets/{theirs}", headers=SERVICE,
                                     params={"client_id": str(client_id)})
    assert other.status_code == 404
    narrowed = await tickets.client.get("/api/v1/customer/tickets", headers=SERVICE,
                                        params={"client_id": str(client_id), "person_id": str(uuid.uuid4())})
    assert narrowed.json() == {"items": []}


async def test_only_a_service_credential_reads_customers_tickets(tickets: Tickets, make_routed: MakeRouted) -> None:
    client_id = uuid.uuid4()
    number = (await tickets.register(make_routed(client_id=client_id))).number
    for headers, expected in (({}, 401), (AGENT, 403)):
        answer = await tickets.client.get(f"/api/v1/customer/tickets/{number}", headers=headers,
                                          params={"client_id": str(client_id)})
        assert answer.status_code == expected, answer.text
