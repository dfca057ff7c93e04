"""``/api/v1/macros``: canned answers and one-click changes (see :mod:`priyom_tickets.macros` for who may do what),
and ``/api/v1/tickets/{number}/macros/{id}/apply``, which makes a macro's changes and answers its text filled in
for the reply box."""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at route definition.
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, status
from pydantic import AwareDatetime, BaseModel, Field, StringConstraints, model_validator
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import ContactType, utcnow

from .. import changes, lifecycle, macros, store, type_correction, type_fields
from ..access import Staff as StaffMember
from ..access import staff_of
from ..decisions import DECISIONS
from ..lifecycle import Actor
from ..views import TicketDetail
from .deps import Number, OpenTicket, Parts, Session, Staff
from .tickets import after_change

router = APIRouter(prefix="/api/v1", tags=["macros"])

#: Every lifecycle action of any ticket type: what a macro may name (the ticket's own machine decides at apply).
ACTIONS = frozenset(a.name for machine in lifecycle.MACHINES.values() for a in machine)
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
NOT_FOUND = {404: {"description": "No macro with this id that the caller may use"}}


class MacroRequest(BaseModel):
    """A macro: a name, who it is for, and at least one of a text and the changes it makes."""

    name: Name
    scope: macros.Scope = Field(macros.Scope.PERSONAL,
                                description="personal (the caller's own), team (needs `team`) or shared")
    team: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None
    body: Annotated[str, StringConstraints(max_length=20_000)] | None = Field(
        None, description="Reply text; variables: " + ", ".join(f"{{{{{v}}}}}" for v in macros.VARIABLES))
    action: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        None, description="A lifecycle action to take (see a ticket's `actions`)")
    decision: str | None = Field(None, description="The decision the action records (GET /api/v1/decisions)")
    set_type: ContactType | None = Field(None, description="The type to give the ticket")
    fields: Annotated[dict[str, Any], Field(max_length=20)] | None = Field(
        None, description="Fields of the ticket's type to set (checked against it when applied)")

    @model_validator(mode="after")
    def _consistent(self) -> "MacroRequest":
        if (self.scope is macros.Scope.TEAM) != (self.team is not None):
            raise ValueError("`team` is given exactly when the scope is team")
        if not (self.body or self.action or self.set_type or self.fields):
            raise ValueError("a macro needs a text or something to change")
        if self.body and (unknown := macros.unknown_variables(self.body)):
            raise ValueError(f"unknown variables {unknown}; known: {list(macros.VARIABLES)}")
        if self.action is not None and self.action not in ACTIONS:
            raise ValueError(f"no lifecycle has the action {self.action!r}")
        if self.decision is not None and self.decision not in DECISIONS:
            raise ValueError(f"{self.decision!r} is not in the decisions dictionary")
        if self.set_type is not None and self.fields:
            type_fields.validate(self.set_type, self.fields)  # InvalidFields is a ValueError: a 422
        return self

    def columns(self, owner: str) -> dict[str, Any]:
        return {"name": self.name, "scope": self.scope.value, "team": self.team, "body": self.body or None,
                "owner": owner if self.scope is macros.Scope.PERSONAL else None, "action": self.action,
                "decision": self.decision, "set_type": self.set_type.value if self.set_type else None,
                "fields": self.fields or None}


class MacroView(BaseModel):
    id: uuid.UUID
    name: str
    scope: macros.Scope
    team: str | None
    owner: str | None
    body: str | None
    action: str | None
    decision: str | None
    set_type: ContactType | None
    fields: dict[str, Any] | None
    created_by: str
    updated_at: AwareDatetime
    may_edit: bool = Field(description="Whether the caller may change or delete it")

    @classmethod
    def of(cls, row: RowMapping, staff: StaffMember) -> "MacroView":
        scope = macros.Scope(row["scope"])
        return cls.model_validate(dict(row) | {"may_edit": macros.may_write(staff, scope, row["team"], row["owner"])})


class Applied(BaseModel):
    text: str | None = Field(description="The macro's text filled in, for the reply box (nothing is sent)")
    ticket: TicketDetail


def _check_write(staff: StaffMember, scope: macros.Scope, team: str | None, owner: str | None) -> None:
    if not macros.may_write(staff, scope, team, owner):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{staff.staff_role.value} may not write {scope.value} "
                            "macros" + (f" of {team}" if team else ""))


async def _usable(session: AsyncSession, staff: StaffMember, macro_id: uuid.UUID) -> RowMapping:
    row = await macros.get(session, staff, macro_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such macro")
    return row


@router.get("/macros", summary="The macros the caller may use: their own, their teams', the shared ones")
async def list_macros(who: Staff, session: Session) -> list[MacroView]:
    staff = staff_of(who)
    return [MacroView.of(row, staff) for row in await macros.listing(session, staff)]


@router.post("/macros", status_code=status.HTTP_201_CREATED, summary="Create a macro",
             responses={403: {"description": "A team or shared macro the caller may not write"}})
async def create_macro(body: MacroRequest, who: Staff, session: Session) -> MacroView:
    staff = staff_of(who)
    _check_write(staff, body.scope, body.team, who.name if body.scope is macros.Scope.PERSONAL else None)
    macro_id = await macros.create(session, body.columns(who.name), author=who.name, now=utcnow())
    await session.commit()
    return MacroView.of(await _usable(session, staff, macro_id), staff)


@router.put("/macros/{macro_id}", summary="Change a macro (all of it)",
            responses=NOT_FOUND | {403: {"description": "The caller may use but not change it"}})
async def change_macro(macro_id: uuid.UUID, body: MacroRequest, who: Staff, session: Session) -> MacroView:
    staff = staff_of(who)
    old = await _usable(session, staff, macro_id)
    _check_write(staff, macros.Scope(old["scope"]), old["team"], old["owner"])
    _check_write(staff, body.scope, body.team, who.name if body.scope is macros.Scope.PERSONAL else None)
    await macros.change(session, macro_id, body.columns(who.name), utcnow())
    await session.commit()
    return MacroView.of(await _usable(session, staff, macro_id), staff)


@router.delete("/macros/{macro_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a macro",
               responses=NOT_FOUND | {403: {"description": "The caller may use but not delete it"}})
async def delete_macro(macro_id: uuid.UUID, who: Staff, session: Session) -> None:
    staff = staff_of(who)
    old = await _usable(session, staff, macro_id)
    _check_write(staff, macros.Scope(old["scope"]), old["team"], old["owner"])
    await macros.remove(session, macro_id)
    await session.commit()


@router.post("/tickets/{number}/macros/{macro_id}/apply",
             summary="Make the macro's changes to the ticket and answer its text for the reply box",
             responses=NOT_FOUND | {409: {"description": "The ticket is closed, or its lifecycle refuses the "
                                                          "macro's action now"},
                                    422: {"description": "The macro's fields do not fit the ticket's type"}})
async def apply_macro(number: Number, macro_id: uuid.UUID, ticket: OpenTicket, who: Staff, session: Session,
                      parts: Parts) -> Applied:
    macro = await _usable(session, staff_of(who), macro_id)
    now = utcnow()
    if macro["set_type"] and macro["set_type"] != ticket["type"]:
        correction = type_correction.Correction(ContactType(macro["set_type"]), None, f"макрос «{macro['name']}»")
        await changes.correct_type(session, ticket, correction, actor_name=who.name, policy=parts.policy, now=now)
        ticket = await _reread(session, number)
    if macro["fields"]:
        try:
            values = type_fields.validate(ContactType(ticket["type"]), (ticket["type_fields"] or {}) | macro["fields"])
        except type_fields.InvalidFields as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, exc.errors) from None
        await changes.set_type_fields(session, ticket, values, actor_name=who.name, now=now)
        ticket = await _reread(session, number)
    if macro["action"]:
        change = lifecycle.Change(macro["action"], macro["decision"], None, None, None)
        await changes.transition(session, ticket, change, actor=Actor.STAFF, actor_name=who.name,
                                 policy=parts.policy, now=now)
    text = macros.render(macro["body"], ticket, who.name) if macro["body"] else None
    return Applied(text=text, ticket=await after_change(session, parts, number, who))


async def _reread(session: AsyncSession, number: str) -> RowMapping:
    ticket = await store.get_ticket(session, number, for_update=True)
    assert ticket is not None  # noqa: S101 - locked by this request
    return ticket


