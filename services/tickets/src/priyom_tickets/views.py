"""What the HTTP API answers with: pydantic models built from store rows, documented in the OpenAPI schema.

The agent-facing views carry everything a console needs; the public view carries only what a customer who
holds the contact id may see (the number, the status, when it was registered).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from priyom_contracts import AttachmentRef, ContactType, TicketNumber, TicketStatus, Urgency

from .access import StaffRole
from .activities import ActivityKind
from .decisions import DECISIONS
from .lifecycle import Action, Escalation


class AttachmentView(BaseModel):
    id: uuid.UUID
    filename: str
    content_type: str
    size: int
    blob_key: str = Field(description="sha256 of the content, its key in the blob store")


class MessageView(BaseModel):
    id: uuid.UUID
    contact_id: uuid.UUID | None
    direction: Literal["inbound", "outbound"]
    channel: str
    author_name: str | None
    subject: str | None
    body_text: str
    created_at: datetime
    attachments: list[AttachmentView] = Field(default_factory=list)
    kind: str | None = Field(None, description="Outbound only: reply (an agent's) or notice (automatic)")
    delivery_status: str | None = Field(None, description="Outbound only: queued, delivered, retrying, failed")
    delivery_detail: str | None = None
    automated: str | None = Field(
        None, description="Inbound only: written by a machine (auto_reply, bounce, report, list), not a person")
    unread_reason: str | None = Field(
        None, description="Inbound only: why the channel could not read the message whole (the original is "
        "attached): shown to the agent")
    sender_auth: dict[str, Any] | None = Field(
        None, description="Inbound e-mail: the sender's authentication, {authenticated (true, false or null), spf, "
        "dkim, dmarc (pass, fail, none), authority (who judged)}")
    sender_flag: str | None = Field(
        None, description="Inbound: sender_unproven when the mail claims a known client's address without proof "
        "(SPF/DKIM/DMARC): it could not rate, close or reopen the ticket by itself, an agent decides")


class HistoryView(BaseModel):
    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    details: dict[str, Any] | None


class ActivityView(BaseModel):
    id: uuid.UUID
    number: TicketNumber = Field(description="The ticket it belongs to")
    kind: ActivityKind
    title: str
    owner: str
    due_at: datetime
    done_at: datetime | None
    created_by: str
    created_at: datetime


ShortField = Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]


class ActivityRequest(BaseModel):
    kind: ActivityKind
    title: ShortField
    owner: ShortField
    due_at: AwareDatetime


class ActivityChange(BaseModel):
    """Reschedule (``due_at``), hand over (``owner``), finish or reopen (``done``); absent fields stay."""

    due_at: AwareDatetime | None = None
    owner: ShortField | None = None
    done: bool | None = None


class RatingRequest(BaseModel):
    rating: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, StringConstraints(max_length=2000, strip_whitespace=True)] | None = None
    channel: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{1,31}$")] | None = Field(
        None, description="Staff only: the channel the customer rated on (telephony by default)")


class RatingView(BaseModel):
    rating: int
    comment: str | None
    channel: str
    rated_at: datetime


class ActionView(BaseModel):
    name: str
    title: str
    target: TicketStatus
    needs_decision: bool

    @classmethod
    def of(cls, action: Action) -> ActionView:
        return cls(name=action.name, title=action.title, target=action.target,
                   needs_decision=action.needs_decision)


class TicketView(BaseModel):
    number: TicketNumber = Field(description="The registration number customers quote: 2026-000123")
    id: uuid.UUID
    contact_id: uuid.UUID = Field(description="The contact that opened the ticket")
    channel: str
    client_id: uuid.UUID
    person_id: uuid.UUID | None
    first_contact: bool
    type: ContactType
    category: str
    urgency: Urgency
    status: TicketStatus
    team: str
    assignee: str | None
    subject: str | None
    routing_reason: str = Field(description="Why the router chose this team and assignee")
    first_response_due_at: datetime
    resolution_due_at: datetime
    created_at: datetime
    updated_at: datetime
    decision: str | None = Field(None, description="The latest decision's dictionary code")
    decision_text: str | None = None
    result: str | None = None
    status_changed_at: datetime | None = None
    first_responded_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    sla_tier: str | None = None
    overdue_at: datetime | None = Field(None, description="When the scheduler found the ticket past a deadline")
    escalation: str | None = Field(None, description="team_head, second_line or vendor")
    escalated_to: str | None = None
    escalated_at: datetime | None = None
    client_name: str | None = Field(None, description="The client card's name as identity gave it")
    type_fields: dict[str, Any] = Field(
        default_factory=dict, description="The fields of this ticket's type (GET /api/v1/ticket-fields)")
    delivery_failed_at: datetime | None = Field(
        None, description="A reply bounced or failed; cleared when a later reply is delivered")

    @field_validator("type_fields", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return value or {}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> TicketView:
        return cls.model_validate(dict(row))


class TicketDetail(TicketView):
    messages: list[MessageView]
    history: list[HistoryView] = Field(description="Every change, oldest first")
    activities: list[ActivityView] = Field(description="Call-backs, meetings, documents, tasks; soonest first")
    actions: list[ActionView] = Field(description="What staff may do next, by the ticket type's lifecycle")
    satisfaction: RatingView | None = Field(None, description="The customer's rating, once closed and rated")
    type_choices: list[ContactType] = Field(
        default_factory=list, description="Types the caller may correct the ticket to now "
        "(POST /tickets/{number}/type); empty when they may not act on it or it is closed or cancelled")

    @classmethod
    def assemble(
        cls, ticket: Mapping[str, Any], messages: Sequence[Mapping[str, Any]],
        attachments: Sequence[Mapping[str, Any]], history: Sequence[Mapping[str, Any]],
        activities: Sequence[Mapping[str, Any]], actions: Sequence[Action], rating: Mapping[str, Any] | None,
        type_choices: Sequence[ContactType] = (),
    ) -> TicketDetail:
        by_message: dict[uuid.UUID, list[AttachmentView]] = {}
        for row in attachments:
            by_message.setdefault(row["message_id"], []).append(AttachmentView.model_validate(dict(row)))
        views = [MessageView.model_validate({**m, "body_text": m["body"],
                                             "attachments": by_message.get(m["id"], [])}) for m in messages]
        return cls.model_validate({**ticket, "messages": views, "history": [dict(h) for h in history],
                                   "activities": [{**a, "number": ticket["number"]} for a in activities],
                                   "actions": [ActionView.of(a) for a in actions],
                                   "satisfaction": dict(rating) if rating else None,
                                   "type_choices": list(type_choices)})


LongText = Annotated[str, StringConstraints(max_length=20_000, strip_whitespace=True)]


class TransitionRequest(BaseModel):
    """One lifecycle action; ``decision`` is a code from ``GET /api/v1/decisions``."""

    action: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    decision: str | None = None
    decision_text: LongText | None = None
    result: LongText | None = None
    note: LongText | None = None
    on_behalf_of_customer: bool = Field(
        False, description="The agent records the customer's own word (a confirmation given by phone)")

    @field_validator("decision")
    @classmethod
    def _known_decision(cls, value: str | None) -> str | None:
        if value is not None and value not in DECISIONS:
            raise ValueError(f"unknown decision {value!r}; see GET /api/v1/decisions")
        return value


class TypeCorrectionRequest(BaseModel):
    """The type the ticket really is; the category, when the agent names one (otherwise see
    ``type_correction.category_after``), and a note for the history."""

    type: ContactType
    category: ShortField | None = None
    note: LongText | None = None


class EscalationRequest(BaseModel):
    level: Escalation
    to: Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)] = Field(
        description="Who takes it over: a person, the second-line team, the vendor's name and case number")
    note: LongText | None = None
    due_at: AwareDatetime | None = Field(
        default=None, description="A vendor's own deadline: by when the outside party must answer. It becomes a "
        "task of the ticket's agent (or of whoever escalates an unassigned ticket) due then, which reminds them "
        "and shows as overdue. Only with level vendor")

    @model_validator(mode="after")
    def _deadline_for_vendors_only(self) -> EscalationRequest:
        if self.due_at is not None and self.level is not Escalation.VENDOR:
            raise ValueError("due_at is a vendor's deadline: only with level vendor")
        return self


class ReplyRequest(BaseModel):
    body: Annotated[str, StringConstraints(min_length=1, max_length=100_000, strip_whitespace=True)]
    attachments: list[AttachmentRef] = Field(
        default_factory=list, max_length=50,
        description="Files uploaded first through POST /tickets/{number}/attachments, as that call returned them")


class ReplyAccepted(BaseModel):
    """The reply is on the thread and on its way; its delivery shows on the message when the channel reports."""

    reply_id: uuid.UUID
    channel: str = Field(description="Where it went: the customer's channel, another their card reaches "
                         "(e-mail, Telegram), or phone for a call-back")
    call_back: uuid.UUID | None = Field(
        default=None, description="The customer has only a phone: the call-back activity that carries the reply")
    warning: str | None = Field(default=None, description="The customer's address it did not go to because "
                                "identity flagged it undeliverable, and why")


class ReplyPathView(BaseModel):
    """Where a reply written now would go, shown before the agent sends it."""

    channel: str | None = Field(description="e-mail, telegram…, phone (a call-back); None: no way at all")
    address: str | None = Field(description="The address, chat or number it goes to")
    call_back: bool = False
    because: str = Field(description="Why this way, in words for the agent")
    reason: str = Field("", description="Why this way as a code the console words in the agent's language: "
                                        "own_channel, card_email, card_messenger, phone_only, no_way")
    warning: str | None = Field(default=None, description="Addresses of the customer passed over because identity "
                                "flagged them undeliverable (a bounce, a relay's refusal)")


class TicketPage(BaseModel):
    items: list[TicketView]
    total: int = Field(description="Tickets matching the filters, on every page")
    limit: int
    offset: int


class ReportRow(BaseModel):
    group: str | None = Field(description="The client id, agent, status, type, channel or team")
    tickets: int
    open: int = Field(description="Not yet resolved, closed, cancelled or rejected")
    overdue: int = Field(description="Open and past a deadline now")
    avg_first_response_min: float | None
    avg_resolution_min: float | None
    rated: int
    avg_rating: float | None


class ReportView(BaseModel):
    group_by: str
    start: datetime | None
    end: datetime | None
    rows: list[ReportRow]


Extension = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z_.+\-]{1,32}$")]


class StaffRequest(BaseModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]
    role: StaffRole
    teams: list[Annotated[str, StringConstraints(min_length=1, max_length=500)]] = Field(
        default_factory=list, max_length=50)
    extension: Extension | None = Field(
        default=None, description="The agent's phone extension: its ringing pops the caller up on /ws/agent")
    email: EmailStr | None = Field(default=None, description="Where an escalation that reaches them is mailed")


class StaffChange(BaseModel):
    """Only the fields given change; null takes one away."""

    extension: Extension | None = Field(default=None, description="The new extension, or null to take it away")
    email: EmailStr | None = Field(default=None, description="The new e-mail address, or null to take it away")


class StaffView(BaseModel):
    name: str
    role: StaffRole
    teams: list[str]
    extension: str | None = None
    email: str | None = None
    created_at: datetime
    token_expires_at: datetime | None = Field(None, description="When the account's token stops working")
    token_revoked_at: datetime | None = Field(None, description="When the token was revoked (null: it was not)")


class StaffCreated(BaseModel):
    name: str
    role: StaffRole
    teams: list[str]
    extension: str | None = None
    email: str | None = None
    token: str = Field(description="The bearer token; only its digest is stored, so keep it now")
    token_expires_at: datetime = Field(description="When the token stops working (rotate it before)")


class StaffToken(BaseModel):
    """A rotated token: the old one already stopped working."""

    name: str
    token: str = Field(description="The new bearer token; only its digest is stored, so keep it now")
    token_expires_at: datetime


class PublicTicket(BaseModel):
    """All a customer learns from their contact id: the number to quote and where the ticket stands."""

    number: TicketNumber
    status: TicketStatus
    created_at: datetime
