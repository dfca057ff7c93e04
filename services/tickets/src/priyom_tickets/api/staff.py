"""``/api/v1/staff``: staff accounts, made and listed by admins (tokens are shown once, never listed)."""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at route definition.
from typing import Annotated

from fastapi import APIRouter, HTTPException, status
from fastapi import Path as PathParam
from sqlalchemy.exc import IntegrityError

from .. import staff as accounts
from ..views import StaffChange, StaffCreated, StaffRequest, StaffView
from .deps import Admin, Session

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])


@router.post("", status_code=status.HTTP_201_CREATED,
             summary="Make a staff account; the answer holds its token, shown this once",
             responses={403: {"description": "Admins only"}, 409: {"description": "The name is taken"}})
async def create_staff(body: StaffRequest, _: Admin, session: Session) -> StaffCreated:
    try:
        token = await accounts.create(session, body.name, body.role, body.teams, body.extension)
        await session.commit()
    except IntegrityError:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            f"{body.name!r} already has an account, or the extension is taken") from None
    return StaffCreated(name=body.name, role=body.role, teams=sorted(set(body.teams)), extension=body.extension,
                        token=token)


@router.patch("/{name}", summary="Set or clear a staff member's phone extension",
              responses={403: {"description": "Admins only"}, 404: {"description": "No such account"},
                         409: {"description": "Another account has this extension"}})
async def change_staff(name: Annotated[str, PathParam(max_length=500)], body: StaffChange, _: Admin,
                       session: Session) -> StaffView:
    try:
        row = await accounts.set_extension(session, name, body.extension)
        await session.commit()
    except IntegrityError:
        raise HTTPException(status.HTTP_409_CONFLICT, f"extension {body.extension} is taken") from None
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no account named {name!r}")
    return StaffView.model_validate(dict(row))


@router.get("", summary="Staff accounts (without tokens)", responses={403: {"description": "Admins only"}})
async def list_staff(_: Admin, session: Session) -> list[StaffView]:
    return [StaffView.model_validate(dict(r)) for r in await accounts.listing(session)]
