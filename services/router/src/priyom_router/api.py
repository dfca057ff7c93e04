"""HTTP routes: explain a decision, edit the rule book and teams (validated, versioned), agent availability.

Thin: decisions are :func:`priyom_router.routing.decide`, validation is :func:`parse_rule_book`. A rule book
that fails validation is answered with 422 and its line and reason, and nothing is stored, so the active
book stays active.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field, StringConstraints

from priyom_contracts import (
    AgentAvailability,
    ClientMatch,
    Contact,
    ContactType,
    MatchKind,
    Sender,
    ServiceContract,
    utcnow,
)
from priyom_kit import Principal, Role, require_roles
from priyom_kit.db import Database
from priyom_kit.outbox import Relay

from . import store
from .active_rules import ActiveRules
from .client_attributes import ClientCards, ClientNotFound, IdentityUnavailable
from .contact_type import Classification, SecondOpinion
from .handlers import offer_waiting_work
from .routing import decide
from .rules import RuleFileError, Team, parse_rule_book

SUPERVISORS = require_roles(Role.SUPERVISOR)
READERS = require_roles(Role.SUPERVISOR, Role.AGENT, Role.SERVICE)
AVAILABILITY_WRITERS = require_roles(Role.SUPERVISOR, Role.AGENT, Role.SERVICE)

Text500 = Annotated[str, StringConstraints(max_length=500, strip_whitespace=True)]


class ExplainClient(BaseModel):
    """Client attributes to test rules with (the router keeps no client cards; identity does)."""

    sla_tier: Text500 = "standard"
    account_manager: Text500 | None = None
    tags: list[Text500] = Field(default_factory=list)
    contracts: list[ServiceContract] = Field(default_factory=list)
    first_contact: bool = False


class ExplainRequest(BaseModel):
    channel: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{1,31}$")]
    subject: Annotated[str, StringConstraints(max_length=998)] | None = None
    body: Annotated[str, StringConstraints(max_length=100_000)] = ""
    client_id: uuid.UUID | None = None
    client: ExplainClient | None = None
    received_at: datetime | None = Field(default=None, description="When it arrived; default now")
    registered_by: Text500 | None = None


class TypeGuess(BaseModel):
    type: ContactType
    probability: float


class WeighedTerm(BaseModel):
    term: str = Field(description="A lemma, a pair of lemmas, «не_…» after a negation, a __signal, or "
                                  "«(character pieces)»: the summed weight of the words' 2–4-letter pieces")
    weight: float = Field(description="How much it added to the chosen type's score")


class ClassifierView(BaseModel):
    """The learned model's answer, when no rule fired."""

    confidence: float
    threshold: float
    triage: bool = Field(description="Below the threshold: the contact goes to triage with both guesses")
    guesses: list[TypeGuess] = Field(description="Every type, likeliest first")
    terms: list[WeighedTerm] = Field(description="The terms that weighed most for the first guess")


class ExplainResponse(BaseModel):
    type: ContactType
    category: str
    product: str | None
    urgency: str
    team: str
    assignee: str | None
    priority: int
    rule: str
    trail: list[str]
    rules_version: int
    first_response_due_at: datetime
    resolution_due_at: datetime
    classifier: ClassifierView | None = Field(default=None, description="Set when the model decided")


class RuleVersionOut(BaseModel):
    version: int
    created_by: str
    comment: str | None
    created_at: datetime


class Availability(BaseModel):
    available: bool


def _rejected(exc: RuleFileError) -> JSONResponse:
    return JSONResponse({"detail": str(exc), "line": exc.line, "reason": exc.reason},
                        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def _view(kind: Classification, threshold: float) -> ClassifierView | None:
    guess = kind.guess
    if guess is None:
        return None
    return ClassifierView(confidence=round(guess.confidence, 3), threshold=threshold, triage=kind.triage,
                          guesses=[TypeGuess(type=t, probability=round(p, 3)) for t, p in guess.ranked],
                          terms=[WeighedTerm(term=t, weight=w) for t, w in guess.terms])


def router_api(database: Database, rules: ActiveRules, second_opinion: SecondOpinion | None,
               relay: Relay, cards: ClientCards | None = None) -> APIRouter:
    """``/api/v1``: every route needs a bearer token (admins pass every role check)."""
    api = APIRouter(prefix="/api/v1")

    @api.post("/route/explain", response_model=ExplainResponse, tags=["routing"],
              summary="The decision for a contact, without creating or counting anything",
              responses={404: {"description": "client_id names no card in identity"},
                         503: {"description": "identity, asked for the card of client_id, did not answer"}})
    async def explain(request: ExplainRequest, _: Annotated[Principal, Depends(SUPERVISORS)]) -> ExplainResponse:
        received = request.received_at or utcnow()
        if received.tzinfo is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "received_at needs a time zone")
        contact = Contact(contact_id=uuid.uuid4(), received_at=received, sender=Sender(),
                          subject=request.subject, body=request.body, registered_by=request.registered_by)
        given = request.client or await _card(request.client_id) or ExplainClient()
        client = ClientMatch(client_id=request.client_id or uuid.uuid4(), first_contact=given.first_contact,
                             match=MatchKind.NEW if given.first_contact else MatchKind.EXACT_EMAIL,
                             sla_tier=given.sla_tier, account_manager=given.account_manager, tags=given.tags,
                             contracts=given.contracts)
        async with database.sessions() as session:
            book, version = await rules.current(session)
            roster = await store.roster(session)
        decision = decide(contact, request.channel, client, book, roster, second_opinion=second_opinion,
                          version=version)
        r = decision.routing
        trail = decision.trail
        if request.client is None and request.client_id is not None and cards is None:
            trail = ["client_id given but ROUTER_IDENTITY_URL is not set: default client attributes", *trail]
        return ExplainResponse(type=r.type, category=r.category, product=r.product, urgency=r.urgency.value,
                               team=r.team, assignee=r.assignee, priority=decision.priority,
                               rule=decision.classification.rule, trail=trail, rules_version=version,
                               first_response_due_at=r.first_response_due_at,
                               resolution_due_at=r.resolution_due_at,
                               classifier=_view(decision.classification, book.classifier_threshold))

    async def _card(client_id: uuid.UUID | None) -> ExplainClient | None:
        """The client's attributes from identity, when only an id was given and identity is configured."""
        if client_id is None or cards is None:
            return None
        try:
            found = await cards.attributes(client_id)
        except ClientNotFound:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "identity has no client with this id") from None
        except IdentityUnavailable as exc:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
        return ExplainClient(sla_tier=found.sla_tier, account_manager=found.account_manager, tags=found.tags,
                             contracts=found.contracts)

    @api.get("/rules", tags=["rules"], response_class=PlainTextResponse,
             summary="The active rule book (YAML); its version is in the X-Rules-Version header")
    async def get_rules(_: Annotated[Principal, Depends(READERS)]) -> PlainTextResponse:
        async with database.sessions() as session:
            text, version = await rules.text(session)
        return PlainTextResponse(text, media_type="application/yaml",
                                 headers={"X-Rules-Version": str(version)})

    @api.put("/rules", tags=["rules"], status_code=status.HTTP_201_CREATED, response_model=RuleVersionOut,
             summary="Replace the rule book: validated, stored as a new version, active at once",
             responses={422: {"description": "Not valid: the line and the reason; the active book stays"}})
    async def put_rules(
        request: Request, principal: Annotated[Principal, Depends(SUPERVISORS)],
        _body: Annotated[str, Body(media_type="application/yaml", description="The rule book in YAML")] = "",
        comment: Annotated[str | None, Query(max_length=500, description="What changed, for the history")] = None,
    ) -> Any:
        try:
            text = (await request.body()).decode("utf-8")
        except UnicodeDecodeError:
            return _rejected(RuleFileError(None, "the rule book must be UTF-8 text"))
        return await _store_version(text, principal.name, comment)

    async def _store_version(text: str, author: str, comment: str | None) -> Any:
        try:
            parse_rule_book(text)
        except RuleFileError as exc:
            return _rejected(exc)
        async with database.sessions() as session, session.begin():
            version = await store.add_rule_version(session, text, author, comment)
            stored = await store.rule_version(session, version)
        assert stored is not None
        return RuleVersionOut(version=stored.version, created_by=stored.created_by, comment=stored.comment,
                              created_at=stored.created_at)

    @api.get("/rules/versions", tags=["rules"], response_model=list[RuleVersionOut],
             summary="Every accepted rule book, newest (active) first")
    async def versions(_: Annotated[Principal, Depends(READERS)]) -> list[RuleVersionOut]:
        async with database.sessions() as session:
            history = await store.rule_history(session)
        return [RuleVersionOut(version=v.version, created_by=v.created_by, comment=v.comment,
                               created_at=v.created_at) for v in history]

    @api.get("/rules/versions/{version}", tags=["rules"], response_class=PlainTextResponse,
             summary="One stored rule book", responses={404: {"description": "No such version"}})
    async def version_text(version: int, _: Annotated[Principal, Depends(READERS)]) -> PlainTextResponse:
        async with database.sessions() as session:
            stored = await store.rule_version(session, version)
        if stored is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such rule book version")
        return PlainTextResponse(stored.text, media_type="application/yaml")

    @api.post("/rules/versions/{version}/restore", tags=["rules"], status_code=status.HTTP_201_CREATED,
              response_model=RuleVersionOut, summary="Make an old rule book active again, as a new version")
    async def restore(version: int, principal: Annotated[Principal, Depends(SUPERVISORS)]) -> Any:
        async with database.sessions() as session:
            stored = await store.rule_version(session, version)
        if stored is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such rule book version")
        return await _store_version(stored.text, principal.name, f"restored from version {version}")

    @api.get("/teams", tags=["teams"], response_model=list[Team], response_model_by_alias=True,
             summary="Teams of the active rule book: skills, members, working hours")
    async def get_teams(_: Annotated[Principal, Depends(READERS)]) -> list[Team]:
        async with database.sessions() as session:
            book, _version = await rules.current(session)
        return book.teams

    @api.put("/teams", tags=["teams"], status_code=status.HTTP_201_CREATED, response_model=RuleVersionOut,
             summary="Replace the teams: a new rule book version (validated as a whole)",
             responses={422: {"description": "The book with these teams is not valid"}})
    async def put_teams(teams: list[dict[str, Any]],
                        principal: Annotated[Principal, Depends(SUPERVISORS)]) -> Any:
        async with database.sessions() as session:
            text, _version = await rules.text(session)
        data = yaml.safe_load(text)
        data["teams"] = teams
        # Comments of the YAML do not survive this route; PUT /rules keeps the text as written.
        new_text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110)
        return await _store_version(new_text, principal.name, "teams replaced")

    @api.get("/agents", tags=["teams"], response_model=list[AgentAvailability],
             summary="Every team member with availability and open tickets")
    async def list_agents(_: Annotated[Principal, Depends(READERS)]) -> list[AgentAvailability]:
        async with database.sessions() as session:
            book, _version = await rules.current(session)
            roster = await store.roster(session)
        default = book.assignment.available_by_default
        names = list(dict.fromkeys(m for t in book.teams for m in t.members))
        return [AgentAvailability(name=n, teams=[t.name for t in book.teams if n in t.members],
                         available=roster.state(n, default).available,
                         open_tickets=roster.state(n, default).open_tickets) for n in names]

    @api.put("/agents/{name}/availability", tags=["teams"], status_code=status.HTTP_204_NO_CONTENT,
             summary="An agent starts or stops taking contacts; one who starts takes the longest-waiting contact")
    async def put_availability(name: Annotated[str, StringConstraints(min_length=1, max_length=500)],
                               body: Availability,
                               _: Annotated[Principal, Depends(AVAILABILITY_WRITERS)]) -> None:
        async with database.sessions() as session, session.begin():
            await store.set_availability(session, name, body.available)
        if body.available:
            await offer_waiting_work(name, sessions=database.sessions, rules=rules, relay=relay)

    return api
