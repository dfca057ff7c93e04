"""HTTP routes for client cards: lookup for caller pop-ups and agents, read by id, and registration.

Thin: normalising is :mod:`.normalise`, writing is :mod:`.identify`. Nothing here logs identifiers.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import EmailStr
from sqlalchemy.exc import IntegrityError

from priyom_kit import Principal, Role, require_roles
from priyom_kit.db import Database

from . import store
from .cards import ClientCard, NewClient
from .identify import IdentifierTaken, register_card
from .matching import EMAIL, PHONE, Identifier
from .normalise import InvalidIdentifier, normalise_email, normalise_phone

READERS = require_roles(Role.AGENT, Role.SUPERVISOR, Role.SERVICE)
WRITERS = require_roles(Role.SUPERVISOR, Role.SERVICE)


def clients_router(database: Database, region: str) -> APIRouter:
    """``/api/v1/clients``: every route needs a bearer token (admins pass every role check)."""
    router = APIRouter(prefix="/api/v1/clients", tags=["clients"])

    @router.get("/lookup", response_model=ClientCard, summary="Find the card of a phone or email",
                responses={404: {"description": "No card has this identifier"},
                           422: {"description": "No identifier given, or the phone is not a number"}})
    async def lookup(
        _: Annotated[Principal, Depends(READERS)],
        phone: Annotated[str | None, Query(max_length=64, description="Any common spelling")] = None,
        email: Annotated[EmailStr | None, Query()] = None,
    ) -> ClientCard:
        wanted: list[Identifier] = []
        try:
            if phone:
                wanted.append(Identifier(PHONE, normalise_phone(phone, region).e164, phone))
            if email:
                wanted.append(Identifier(EMAIL, normalise_email(str(email)), str(email)))
        except InvalidIdentifier as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
        if not wanted:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "give phone or email")
        async with database.sessions() as session:
            owners = await store.owners_of(session, wanted)
            # The phone, when given, decides: it is the stronger identifier (see matching.py).
            owner = next((owners[i.key] for i in wanted if i.key in owners), None)
            card = await store.load_card(session, owner.client_id) if owner else None
        if card is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no client with this identifier")
        return card

    @router.get("/{client_id}", response_model=ClientCard, summary="A client card by id",
                responses={404: {"description": "No such card"}})
    async def get_client(client_id: uuid.UUID, _: Annotated[Principal, Depends(READERS)]) -> ClientCard:
        async with database.sessions() as session:
            card = await store.load_card(session, client_id)
        if card is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such client")
        return card

    @router.post("", response_model=ClientCard, status_code=status.HTTP_201_CREATED,
                 summary="Register a client card with its persons, phones and emails",
                 responses={409: {"description": "An identifier already belongs to another card"},
                            422: {"description": "Invalid fields, or a phone that is not a number"}})
    async def create_client(new: NewClient, _: Annotated[Principal, Depends(WRITERS)]) -> ClientCard:
        try:
            async with database.sessions() as session:
                async with session.begin():
                    client_id = await register_card(session, new, region)
                card = await store.load_card(session, client_id)
        except InvalidIdentifier as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
        except IdentifierTaken as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
        except IntegrityError:
            # A contact claimed one of these identifiers between our check and our insert.
            raise HTTPException(status.HTTP_409_CONFLICT,
                                "an identifier of this card was just taken") from None
        assert card is not None
        return card

    return router
