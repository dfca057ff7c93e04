"""``/api/v1/clients/{client_id}/persons``: the contact persons of a card, and the phones, emails and messenger
ids that identify them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, ConfigDict
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from priyom_contracts import ClientCard, ClientChange, PersonRole
from priyom_kit import Principal
from priyom_kit.db import Database

from .. import store
from ..canonical_identifiers import InvalidIdentifier
from ..card_changes import CardChanges
from ..cards import Name, NewPerson, OptionalText, PersonIdentifiers
from ..identify import IdentifierTaken
from ..matching import Owner, parse_identifiers
from ..owners import owners_of
from ..policy import MatchPolicy
from ..tables import contact_persons
from .clients import card_or_404, unprocessable
from .roles import EDITORS


class PersonUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: Name | None = None
    position: OptionalText = None
    role: PersonRole | None = None


def persons_router(database: Database, policy: MatchPolicy, changes: CardChanges) -> APIRouter:
    """Add a person to a card, add identifiers to a person, edit a person."""
    router = APIRouter(prefix="/api/v1/clients", tags=["clients"])

    @router.post("/{client_id}/persons", response_model=ClientCard, status_code=status.HTTP_201_CREATED,
                 summary="Add a contact person with their phones and emails",
                 responses={404: {"description": "No such card"},
                            409: {"description": "An identifier already belongs to a card"}})
    async def add_person(client_id: uuid.UUID, person: NewPerson,
                         _: Annotated[Principal, Depends(EDITORS)]) -> ClientCard:
        await card_or_404(database, client_id)
        await attach(client_id, None, person)
        return await card_or_404(database, client_id)

    @router.post("/{client_id}/persons/{person_id}/identifiers", response_model=ClientCard,
                 status_code=status.HTTP_201_CREATED,
                 summary="Add phones, emails or messenger ids to a person (an unknown caller identified)",
                 responses={404: {"description": "No such person on this card"},
                            409: {"description": "An identifier already belongs to a card"}})
    async def add_identifiers(client_id: uuid.UUID, person_id: uuid.UUID, new: PersonIdentifiers,
                              _: Annotated[Principal, Depends(EDITORS)]) -> ClientCard:
        async with database.sessions() as session:
            if await store.person_client(session, person_id) != client_id:
                raise HTTPException(status.HTTP_404_NOT_FOUND, "no such person on this card")
        await attach(client_id, person_id, new)
        return await card_or_404(database, client_id)

    async def attach(client_id: uuid.UUID, person_id: uuid.UUID | None, new: PersonIdentifiers) -> None:
        """Add ``new``'s identifiers to a person (a new one from ``new`` when ``person_id`` is None)."""
        try:
            wanted = list({i.key: i for i in parse_identifiers(
                new.phones, [str(e) for e in new.emails], policy, new.messengers, new.portal_login)}.values())
            async with database.sessions() as session, session.begin():
                taken = await owners_of(session, wanted)
                if taken:
                    first = next(i for i in wanted if i.key in taken)
                    raise IdentifierTaken(first.kind, taken[first.key].client_id)
                if person_id is None:
                    assert isinstance(new, NewPerson)
                    person_id = await store.create_person(session, client_id, new.full_name, new.position,
                                                          new.role)
                await store.add_identifiers(session, Owner(client_id, person_id), wanted)
        except InvalidIdentifier as exc:
            raise unprocessable(str(exc)) from None
        except (IdentifierTaken, IntegrityError) as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
        await changes.committed(ClientChange.EDITED, [client_id])

    @router.patch("/{client_id}/persons/{person_id}", response_model=ClientCard,
                  summary="Edit a contact person", responses={404: {"description": "No such person"}})
    async def update_person(client_id: uuid.UUID, person_id: uuid.UUID, edit: PersonUpdate,
                            _: Annotated[Principal, Depends(EDITORS)]) -> ClientCard:
        edits = edit.model_dump(exclude_unset=True)
        async with database.sessions() as session, session.begin():
            result = await session.execute(
                update(contact_persons).where(contact_persons.c.id == person_id,
                                              contact_persons.c.client_id == client_id,
                                              contact_persons.c.erased_at.is_(None)).values(**edits))
            if not result.rowcount:
                raise HTTPException(status.HTTP_404_NOT_FOUND, "no such person on this card")
        await changes.committed(ClientChange.EDITED, [client_id])
        return await card_or_404(database, client_id)

    return router
