"""``/api/v1/clients``: client cards. Lookup for caller pop-ups and agents, search, read, create, edit, delete
and the contact history."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import RedirectResponse
from pydantic import EmailStr
from sqlalchemy.exc import IntegrityError

from priyom_contracts import ClientCard, ClientChange
from priyom_kit import Principal
from priyom_kit.db import Database

from .. import store
from ..canonical_identifiers import InvalidIdentifier, normalise_messenger_id
from ..card_changes import CardChanges
from ..cards import CardSummary, ClientUpdate, HistoryEntry, NewClient
from ..identify import IdentifierTaken, register_card
from ..matching import Identifier, messenger_kind, parse_identifiers
from ..owners import owners_of
from ..policy import MatchPolicy
from .roles import EDITORS, READERS, WRITERS


def unprocessable(message: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, message)


async def card_or_404(database: Database, client_id: uuid.UUID) -> ClientCard:
    async with database.sessions() as session:
        card = await store.load_card(session, client_id)
    if card is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such client")
    return card


def clients_router(database: Database, policy: MatchPolicy, changes: CardChanges) -> APIRouter:
    """``/api/v1/clients``: every route needs a bearer token (admins pass every role check)."""
    router = APIRouter(prefix="/api/v1/clients", tags=["clients"])
    trigram: bool | None = None  # whether pg_trgm is there, asked once (migration 0004 may have skipped it)

    @router.get("/lookup", response_model=ClientCard, summary="Find the card of a phone, email or messenger id",
                responses={404: {"description": "No card has this identifier"},
                           422: {"description": "No identifier given, or the phone is not a number"}})
    async def lookup(
        _: Annotated[Principal, Depends(READERS)],
        phone: Annotated[str | None, Query(max_length=64, description="Any common spelling")] = None,
        email: Annotated[EmailStr | None, Query()] = None,
        messenger: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_-]{1,31}$",
                                               description="Channel of messenger_id, e.g. telegram")] = None,
        messenger_id: Annotated[str | None, Query(max_length=128)] = None,
    ) -> ClientCard:
        try:
            wanted: list[Identifier] = []
            if messenger and messenger_id:
                wanted.append(Identifier(messenger_kind(messenger), normalise_messenger_id(messenger_id),
                                         messenger_id))
            wanted += parse_identifiers([phone] if phone else [], [str(email)] if email else [], policy)
        except InvalidIdentifier as exc:
            raise unprocessable(str(exc)) from None
        if not wanted:
            raise unprocessable("give phone, email, or messenger and messenger_id")
        async with database.sessions() as session:
            owners = await owners_of(session, wanted)
            # The strongest identifier given decides (see matching.py), a verified one before any claim; a
            # claim still finds its card here, where the agent sees it marked as such.
            found = sorted((i for i in wanted if i.key in owners), key=lambda i: not owners[i.key].verified)
            owner = owners[found[0].key] if found else None
            card = await store.load_card(session, owner.client_id) if owner else None
        if card is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no client with this identifier")
        matched = next((i.id for i in card.identifiers if (i.kind, i.value) == found[0].key), None)
        return card.model_copy(update={"matched_identifier": matched})

    @router.get("", response_model=list[CardSummary], summary="Search cards by name (close spellings too, on PostgreSQL) or phone fragment",
                responses={422: {"description": "Neither q nor phone given"}})
    async def search(
        _: Annotated[Principal, Depends(READERS)],
        q: Annotated[str | None, Query(min_length=2, max_length=200, description="Part of the name")] = None,
        phone: Annotated[str | None, Query(max_length=64, description="Digits of a phone, 4 or more")] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> list[CardSummary]:
        nonlocal trigram
        digits = "".join(c for c in phone or "" if c.isdigit()) or None
        if phone is not None and (digits is None or len(digits) < 4):
            raise unprocessable("phone fragment needs at least 4 digits")
        if not q and not digits:
            raise unprocessable("give q or phone")
        async with database.sessions() as session:
            if trigram is None:
                trigram = await store.trigram_available(session)
            return await store.search(session, name=q, phone_digits=digits, limit=limit, trigram=trigram)

    @router.get("/{client_id}", response_model=ClientCard, summary="A client card by id",
                responses={404: {"description": "No such card"},
                           308: {"description": "The card was merged into another; Location names it"}})
    async def get_client(client_id: uuid.UUID, _: Annotated[Principal, Depends(READERS)]):  # type: ignore[no-untyped-def]
        async with database.sessions() as session:
            card = await store.load_card(session, client_id)
            target = None if card is not None else await store.merged_into(session, client_id)
        if target is not None:
            return RedirectResponse(f"{router.prefix}/{target}", status.HTTP_308_PERMANENT_REDIRECT)
        if card is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such client")
        return card

    @router.get("/{client_id}/history", response_model=list[HistoryEntry],
                summary="Every contact seen on the card, newest first")
    async def contact_history(client_id: uuid.UUID, _: Annotated[Principal, Depends(READERS)],
                              limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[HistoryEntry]:
        await card_or_404(database, client_id)
        async with database.sessions() as session:
            return await store.history(session, client_id, limit)

    @router.post("", response_model=ClientCard, status_code=status.HTTP_201_CREATED,
                 summary="Register a client card with its persons, phones, emails and contracts",
                 responses={409: {"description": "An identifier already belongs to another card"},
                            422: {"description": "Invalid fields, or a phone that is not a number"}})
    async def create_client(new: NewClient, _: Annotated[Principal, Depends(WRITERS)]) -> ClientCard:
        try:
            async with database.sessions() as session, session.begin():
                client_id = await register_card(session, new, policy)
        except InvalidIdentifier as exc:
            raise unprocessable(str(exc)) from None
        except IdentifierTaken as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
        except IntegrityError:
            # A contact claimed one of these identifiers between our check and our insert.
            raise HTTPException(status.HTTP_409_CONFLICT, "an identifier of this card was just taken") from None
        return await card_or_404(database, client_id)

    @router.patch("/{client_id}", response_model=ClientCard, summary="Edit a card (only the fields given)",
                  responses={404: {"description": "No such card"}})
    async def update_client(client_id: uuid.UUID, edit: ClientUpdate,
                            _: Annotated[Principal, Depends(EDITORS)]) -> ClientCard:
        edits = edit.model_dump(exclude_unset=True)
        cleared = sorted(k for k in ("kind", "name", "sla_tier", "tags", "provisional") if k in edits
                         and edits[k] is None)
        if cleared:
            raise unprocessable(f"these fields cannot be cleared: {', '.join(cleared)}")
        contracts = edits.pop("contracts", None)
        async with database.sessions() as session, session.begin():
            if not await store.update_client(session, client_id, edits):
                raise HTTPException(status.HTTP_404_NOT_FOUND, "no such client")
            if contracts is not None:
                await store.replace_contracts(session, client_id, edit.contracts or [])
        await changes.committed(ClientChange.EDITED, [client_id])
        return await card_or_404(database, client_id)

    @router.delete("/{client_id}", status_code=status.HTTP_204_NO_CONTENT,
                   summary="Delete a card with its persons, identifiers and history (audited)",
                   responses={404: {"description": "No such card"}})
    async def delete_client(client_id: uuid.UUID, principal: Annotated[Principal, Depends(WRITERS)]) -> None:
        async with database.sessions() as session, session.begin():
            if not await store.delete_client(session, client_id, actor=principal.name):
                raise HTTPException(status.HTTP_404_NOT_FOUND, "no such client")
        await changes.committed(ClientChange.DELETED, [client_id])

    return router
