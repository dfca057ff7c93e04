"""A signed-in customer's requests: ``/account`` (the list), ``/account/requests/{number}`` (one, with its thread)
and the forms that act on one (reply, confirm, decline, rate), each published as the customer's message
(:mod:`..customer_acts`) and answered with a redirect back to the request.

Every request is read from tickets for this customer's card (and person) first, so another customer's number
is a 404 here, as it is at tickets, and an act the request's state does not allow is refused (409) before
anything is published.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from priyom_contracts import CustomerTicket, PortalLanguage, TicketStatus

from ..account_html import TEXT, notice_page, request_page, requests_page
from ..account_parts import AccountParts
from ..account_store import Customer
from ..customer_acts import MAX_COMMENT, MAX_TEXT, Act, body_of, customer_message
from ..page_html import page
from ..peers import PeerUnavailable
from ..reply_files import FileRefused, store_files
from .account_deps import Account, SignedIn, form_of, html, language_of, same_origin

requests_router = APIRouter(tags=["customer account pages"], include_in_schema=False)

FINAL = frozenset({TicketStatus.CLOSED, TicketStatus.CANCELLED})
Number = Annotated[str, Path(pattern=r"^[0-9]{4}-[0-9]{6,9}$", max_length=14)]
Lang = Annotated[str | None, Query(max_length=2)]


def _language(customer: Customer, lang: str | None) -> PortalLanguage:
    return language_of(lang) if lang else language_of(customer.language)


def _not_found(language: PortalLanguage) -> HTMLResponse:
    t = TEXT[language]
    return html(page("404", f'<h1>404</h1><p>{t["not_found"]}</p><p><a href="/account">{t["back"]}</a></p>',
                     language), status.HTTP_404_NOT_FOUND)


@requests_router.get("/account")
async def my_requests(customer: SignedIn, parts: Account, lang: Lang = None, sent: int = 0) -> HTMLResponse:
    language = _language(customer, lang)
    try:
        listing = await parts.requests.list(customer.account)
    except PeerUnavailable:
        return html(notice_page(language, "unavailable"), status.HTTP_503_SERVICE_UNAVAILABLE)
    return html(requests_page(language, listing.items, sent=bool(sent)))


@requests_router.get("/account/requests/{number}")
async def one_request(number: Number, customer: SignedIn, parts: Account, lang: Lang = None,
                      sent: int = 0) -> HTMLResponse:
    language = _language(customer, lang)
    try:
        ticket = await parts.requests.one(customer.account, number)
    except PeerUnavailable:
        return html(notice_page(language, "unavailable"), status.HTTP_503_SERVICE_UNAVAILABLE)
    if ticket is None:
        return _not_found(language)
    return html(request_page(language, ticket, final=TicketStatus(ticket.status) in FINAL, sent=bool(sent)))


def _refusal(act: Act, ticket: CustomerTicket, form: dict[str, str]) -> str | None:
    """Why this act is not taken now, or None. The texts are limited as tickets limits a message."""
    if act is Act.REPLY:
        if TicketStatus(ticket.status) in FINAL:
            return "the request is closed"
        if not form.get("text", "").strip() or len(form["text"]) > MAX_TEXT:
            return f"write a message of at most {MAX_TEXT} characters"
    elif act in (Act.CONFIRM, Act.DECLINE):
        if not ticket.awaits_verdict:
            return "the request does not wait for your confirmation"
        if act is Act.DECLINE and (not form.get("reason", "").strip() or len(form["reason"]) > MAX_COMMENT):
            return f"say what is not resolved, in at most {MAX_COMMENT} characters"
    else:
        if not ticket.rateable:
            return "the request cannot be rated now"
        if form.get("rating") not in {"1", "2", "3", "4", "5"} or len(form.get("comment", "")) > MAX_COMMENT:
            return f"choose a rating from 1 to 5 (a comment of at most {MAX_COMMENT} characters)"
    return None


def _text(message: str, status_code: int) -> Response:
    return Response(message, status_code, media_type="text/plain")


@requests_router.post("/account/requests/{number}/{act}")
async def act_on_request(number: Number, act: Act, request: Request, customer: SignedIn,
                         parts: Account) -> Response:
    same_origin(request)
    multipart = request.headers.get("content-type", "").startswith("multipart/form-data")
    if multipart and act is not Act.REPLY:
        return _text("only a reply takes files", status.HTTP_400_BAD_REQUEST)
    if multipart:  # a reply with files, read whole (capped by BodyCap); the files are closed when it is done
        async with request.form(max_files=parts.files.max_files + 1, max_fields=10) as received:
            fields = {k: v for k, v in received.items() if isinstance(v, str)}
            return await _act(number, act, customer, parts, fields, received)
    return await _act(number, act, customer, parts, await form_of(request), None)


async def _act(number: str, act: Act, customer: Customer, parts: AccountParts, form: dict[str, str],
               received: FormData | None) -> Response:
    """Check the act against the request as tickets has it, store a reply's files, publish the message."""
    language = language_of(customer.language)
    try:
        key = uuid.UUID(form.get("key", ""))
        ticket = await parts.requests.one(customer.account, number)
    except ValueError:
        return _text("the form has no key", status.HTTP_400_BAD_REQUEST)
    except PeerUnavailable:
        return html(notice_page(language, "unavailable"), status.HTTP_503_SERVICE_UNAVAILABLE)
    if ticket is None:
        return _not_found(language)
    if (refused := _refusal(act, ticket, form)) is not None:
        return _text(refused, status.HTTP_409_CONFLICT)
    try:
        files = await store_files(received, parts.blobs, parts.files) if received is not None else []
    except FileRefused as exc:
        return _text(str(exc), status.HTTP_413_CONTENT_TOO_LARGE)
    text = form.get("text") or form.get("reason") or form.get("comment") or ""
    rating = int(form["rating"]) if act is Act.RATE else None
    await parts.publish(customer_message(number, customer.identifier, body_of(act, language, text=text,
                                                                               rating=rating), key, files))
    return RedirectResponse(f"/account/requests/{number}?sent=1", status.HTTP_303_SEE_OTHER)
