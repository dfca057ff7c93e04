"""Identity's card lookup and tickets' customer routes as the portal's account pages call them: a FastAPI app
answering exactly as those two services do (the same paths, parameters, contracts and 404s), reached over ASGI
(like :func:`.conftest.staff_directory`). Tickets' own side of the customer routes is tested in services/tickets
(test_customer_api.py) and the whole way end to end in tests/e2e/test_portal_account.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from fastapi import FastAPI, HTTPException

from priyom_contracts import (
    ClientCard,
    CustomerMessage,
    CustomerTicket,
    CustomerTicketList,
    CustomerTicketSummary,
    IdentifierView,
    PersonView,
    TicketStatus,
    utcnow,
)


@dataclass
class Directory:
    """The cards (by e-mail) and the tickets (by number) the peers answer with."""

    cards: dict[str, ClientCard] = field(default_factory=dict)
    tickets: dict[str, tuple[CustomerTicket, uuid.UUID, uuid.UUID | None]] = field(default_factory=dict)
    asked: list[dict[str, str]] = field(default_factory=list)

    def card(self, email: str, *, verified: bool = True, kind: str = "person",
             role: str | None = None) -> ClientCard:
        """A card with one e-mail (``telegram:<id>``: a Telegram user id), the person's when ``kind`` is org (a
        representative or not)."""
        now = utcnow()
        person = uuid.uuid4() if kind == "org" else None
        telegram = email.startswith("telegram:")
        identifier = IdentifierView(id=uuid.uuid4(), kind="messenger:telegram" if telegram else "email",
                                    value=email.removeprefix("telegram:"), person_id=person, verified=verified)
        card = ClientCard(
            id=uuid.uuid4(), kind=kind, name="ООО Ромашка" if kind == "org" else "Анна Петрова",
            sla_tier="standard", account_manager=None, provisional=False, first_contact_at=now,
            last_contact_at=now, created_at=now, updated_at=now,
            persons=[PersonView(id=person, full_name="Анна Петрова", position=None, role=role)] if person else [],
            identifiers=[identifier], matched_identifier=identifier.id)
        self.cards[email] = card
        return card

    def ticket(self, number: str, card: ClientCard, *, status: TicketStatus = TicketStatus.OPEN,
               person_id: uuid.UUID | None = None, rateable: bool = False) -> CustomerTicket:
        now = utcnow()
        ticket = CustomerTicket(
            number=number, status=status, subject="Не печатает принтер", created_at=now - timedelta(hours=1),
            updated_at=now, person_id=person_id, result=None,
            awaits_verdict=status in (TicketStatus.RESOLVED, TicketStatus.AWAITING_CONFIRMATION),
            rateable=rateable, rating=None, history=[],
            messages=[CustomerMessage(direction="inbound", channel="email", body="Принтер не печатает.",
                                      created_at=now - timedelta(hours=1)),
                      CustomerMessage(direction="outbound", channel="email", author="Иванова",
                                      body="Проверьте бумагу в лотке.", created_at=now)])
        self.tickets[number] = (ticket, card.id, person_id)
        return ticket

    def _visible(self, number: str, client_id: uuid.UUID, person_id: uuid.UUID | None) -> bool:
        _, owner, person = self.tickets[number]
        return owner == client_id and (person_id is None or person == person_id)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/api/v1/clients/lookup")
        async def lookup(email: str | None = None, messenger: str | None = None,
                         messenger_id: str | None = None) -> ClientCard:
            key = f"{messenger}:{messenger_id}" if messenger else email
            if key not in self.cards:
                raise HTTPException(404, "no client with this identifier")
            return self.cards[key]

        @app.get("/api/v1/customer/tickets")
        async def listing(client_id: uuid.UUID, person_id: uuid.UUID | None = None) -> CustomerTicketList:
            self.asked.append({"client_id": str(client_id), "person_id": str(person_id)})
            return CustomerTicketList(items=[
                CustomerTicketSummary.model_validate(t.model_dump(include=set(CustomerTicketSummary.model_fields)))
                for number, (t, _, _) in self.tickets.items() if self._visible(number, client_id, person_id)])

        @app.get("/api/v1/customer/tickets/{number}")
        async def one(number: str, client_id: uuid.UUID, person_id: uuid.UUID | None = None
                      ) -> CustomerTicket:
            if number not in self.tickets or not self._visible(number, client_id, person_id):
                raise HTTPException(404, f"no ticket number {number}")
            return self.tickets[number][0]

        return app
