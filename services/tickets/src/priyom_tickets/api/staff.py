"""``/api/v1/staff``: staff accounts, made and listed by admins (tokens are shown once, never listed), and
their tokens rotated and revoked; ``/api/v1/me/token``: a member of staff rotates their own;
``/api/v1/me/preferences``: they choose the console's language and time zone, kept on their account."""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at route definition.
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi import Path as PathParam
from sqlalchemy.exc import IntegrityError

from priyom_contracts import StaffExtension, StaffPreferences, utcnow

from .. import staff as accounts
from ..access import Staff as StaffMember
from ..views import StaffChange, StaffCreated, StaffRequest, StaffToken, StaffView
from .deps import Admin, Internal, Session, Staff

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])
#: The caller's own token (not under /staff, which is admins' only).
own_router = APIRouter(prefix="/api/v1/me", tags=["staff"])
Name = Annotated[str, PathParam(max_length=500)]


def token_lifetime(request: Request) -> timedelta:
    return request.app.state.staff_token_lifetime


Lifetime = Annotated[timedelta, Depends(token_lifetime)]


@router.post("", status_code=status.HTTP_201_CREATED,
             summary="Make a staff account; the answer holds its token, shown this once",
             responses={403: {"description": "Admins only"}, 409: {"description": "The name is taken"}})
async def create_staff(body: StaffRequest, _: Admin, session: Session, lifetime: Lifetime) -> StaffCreated:
    try:
        token = await accounts.create(session, body.name, body.role, body.teams, body.extension, lifetime,
                                      email=body.email)
        await session.commit()
    except IntegrityError:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            f"{body.name!r} already has an account, or the extension is taken") from None
    return StaffCreated(name=body.name, role=body.role, teams=sorted(set(body.teams)), extension=body.extension,
                        email=body.email, token=token, token_expires_at=utcnow() + lifetime)


@router.patch("/{name}", summary="Set or clear a staff member's phone extension and e-mail address (those given)",
              responses={403: {"description": "Admins only"}, 404: {"description": "No such account"},
                         409: {"description": "Another account has this extension"}})
async def change_staff(name: Name, body: StaffChange, _: Admin,
                       session: Session) -> StaffView:
    try:
        row = await accounts.change(session, name, body.model_dump(include=body.model_fields_set, mode="json"))
        await session.commit()
    except IntegrityError:
        raise HTTPException(status.HTTP_409_CONFLICT, f"extension {body.extension} is taken") from None
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no account named {name!r}")
    return StaffView.model_validate(dict(row))


@router.get("", summary="Staff accounts (without tokens)", responses={403: {"description": "Admins only"}})
async def list_staff(_: Admin, session: Session) -> list[StaffView]:
    return [StaffView.model_validate(dict(r)) for r in await accounts.listing(session)]


@router.get("/extensions", summary="Who is on which phone extension, for services: a PBX integration that "
            "names agents (Zammad's CTI user[]) turns the names into the extensions their pop-ups go to",
            responses={403: {"description": "Services (and admins) only"}})
async def staff_extensions(_: Internal, session: Session) -> list[StaffExtension]:
    return [StaffExtension(name=row["name"], extension=row["extension"])
            for row in await accounts.extensions(session)]


@router.post("/{name}/token", summary="Rotate an account's token: a new one, shown this once; the old one ends now",
             responses={403: {"description": "Admins only"}, 404: {"description": "No such account"}})
async def rotate_token(name: Name, _: Admin, session: Session, lifetime: Lifetime) -> StaffToken:
    return await _rotated(session, name, lifetime)


@router.delete("/{name}/token", status_code=status.HTTP_204_NO_CONTENT,
               summary="Revoke an account's token now (a lost laptop, someone leaving); rotating gives a new one",
               responses={403: {"description": "Admins only"}, 404: {"description": "No such account"}})
async def revoke_token(name: Name, _: Admin, session: Session) -> Response:
    if not await accounts.revoke(session, name):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no account named {name!r}")
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@own_router.post("/token", summary="Rotate your own token: a new one, shown this once; the one you sent ends now",
                 responses={403: {"description": "Only a staff account has a token to rotate"}})
async def rotate_own_token(who: Staff, session: Session, lifetime: Lifetime) -> StaffToken:
    if not isinstance(who, StaffMember) or not who.account:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the environment's tokens are rotated in the environment")
    return await _rotated(session, who.name, lifetime)


@own_router.put("/preferences", summary="Choose your console's language (ru, en) and time zone (IANA name); "
                "null for either follows the browser",
                responses={403: {"description": "Only a staff account has preferences to keep"},
                           422: {"description": "Not ru/en, or not a zone of the IANA database"}})
async def set_own_preferences(body: StaffPreferences, who: Staff, session: Session) -> StaffPreferences:
    """The agent's own, never another's: the account is the caller's, so there is no name in the path."""
    if not isinstance(who, StaffMember) or not who.account:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the environment's tokens have no account to keep "
                                                       "preferences on")
    if not await accounts.set_preferences(session, who.name, body):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no account named {who.name!r}")
    await session.commit()
    return body


async def _rotated(session: Session, name: str, lifetime: timedelta) -> StaffToken:
    token = await accounts.rotate(session, name, lifetime)
    if token is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no account named {name!r}")
    await session.commit()
    return StaffToken(name=name, token=token, token_expires_at=utcnow() + lifetime)
