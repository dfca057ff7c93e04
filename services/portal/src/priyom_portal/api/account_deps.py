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
from ..articles import CLIENTS, PUBLIC, Audience
from ..page_html import PAGE_HEADERS
from ..sign_in import token_hash
from .dependencies import Session

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


async def signed_in(request: Request, parts: AccountParts, session: Session) -> Customer | None:
    """The customer whose live session the cookie opens, or None (no cookie: no database read)."""
    token = request.cookies.get(COOKIE)
    if not token or parts.secret is None:
        return None
    async with session.begin():
        return await account_store.customer_of(session, token_hash(parts.secret.get_secret_value(), token),
                                               utcnow())


async def _customer(request: Request, parts: Account, session: Session, language: Language) -> Customer:
    customer = await signed_in(request, parts, session)
    if customer is None:
        raise HTTPException(status.HTTP_303_SEE_OTHER, "sign in first",
                            headers={"Location": f"/account/sign-in?lang={language}", "Cache-Control": "no-store"})
    return customer


async def _page_reader(request: Request, parts: Account, session: Session) -> Audience:
    """Who reads a knowledge-base page: a signed-in customer of the clients' group sees the ``clients`` articles
    too; anyone else, a signed-in customer without a contract or a tier above the default too, the public ones."""
    customer = await signed_in(request, parts, session)
    return CLIENTS if customer is not None and customer.account.reads_clients else PUBLIC


#: The audience of a knowledge-base page, from the session cookie (never a redirect).
PageReader = Annotated[Audience, Depends(_page_reader)]

#: The signed-in customer of a page; anyone else is sent to the sign-in page.
SignedIn = Annotated[Customer, Depends(_customer)]
