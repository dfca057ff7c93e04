"""What the account pages share: their parts, the page language, the form reader, the origin check and the
signed-in customer (from the session cookie, else a redirect to the sign-in page)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs, urlsplit

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse

from priyom_contracts import PortalLanguage, utcnow

from .. import account_store
from ..account_parts import COOKIE, AccountParts
from ..account_store import Customer
from ..sign_in import token_hash
from .dependencies import Session
from .pages import PAGE_HEADERS

#: The longest form the account pages take: a reply of 20,000 characters, percent-encoded.
MAX_FORM_BYTES = 200_000


def _account_parts(request: Request) -> AccountParts:
    return request.app.state.account


Account = Annotated[AccountParts, Depends(_account_parts)]


def language_of(value: str | None) -> PortalLanguage:
    return "en" if value == "en" else "ru"


def _language(lang: Annotated[str | None, Query(max_length=2)] = None) -> PortalLanguage:
    return language_of(lang)


Language = Annotated[PortalLanguage, Depends(_language)]


def html(text: str, status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    """A page under the portal's CSP, never cached (it may show a customer's requests)."""
    return HTMLResponse(text, status_code=status_code,
                        headers={**PAGE_HEADERS, "Cache-Control": "no-store", **(headers or {})})


async def form_of(request: Request) -> dict[str, str]:
    """A URL-encoded form's fields (the first of each), refused past :data:`MAX_FORM_BYTES`."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "form too large")
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}


def same_origin(request: Request) -> None:
    """A form post from another site is refused: the cookie is ``SameSite=Lax`` already, and a browser that
    names the origin it posts from must name this one."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "cross-site form post")


async def _customer(request: Request, parts: Account, session: Session, language: Language) -> Customer:
    token = request.cookies.get(COOKIE)
    customer = None
    if token and parts.secret is not None:
        customer = await account_store.customer_of(session, token_hash(parts.secret.get_secret_value(), token),
                                                   utcnow())
    if customer is None:
        raise HTTPException(status.HTTP_303_SEE_OTHER, "sign in first",
                            headers={"Location": f"/account/sign-in?lang={language}", "Cache-Control": "no-store"})
    return customer


#: The signed-in customer of a page; anyone else is sent to the sign-in page.
SignedIn = Annotated[Customer, Depends(_customer)]
