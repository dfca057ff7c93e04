"""Signing a customer in and out: ``/account/sign-in`` (ask for a code), ``/account/code`` (enter it),
``/account/sign-out``. Server-rendered forms (:mod:`..account_html`), answered with a redirect once done.

Asking for a code answers the same page whether or not the identifier is on a card and verified, so the form
tells nobody which addresses are customers'; a code is sent (``signin.code.v1.<channel>``) only to a verified
one. A wrong code, a spent one and one that never existed get the same answer too.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from priyom_contracts import SignInCode, utcnow

from .. import account_store
from ..account_html import code_page, notice_page, sign_in_message, sign_in_page
from ..account_parts import COOKIE, COOKIE_PATH
from ..peers import PeerUnavailable
from ..sign_in import Identifier, NotAnIdentifier, account_of, code_hash, new_code, new_token, token_hash
from .account_deps import Account, Language, form_of, html, language_of, same_origin
from .dependencies import Session, client_address

sign_in_router = APIRouter(tags=["customer account pages"], include_in_schema=False)


@sign_in_router.get("/account/sign-in")
async def sign_in_form(parts: Account, language: Language) -> HTMLResponse:
    if parts.secret is None:
        return html(notice_page(language, "off"), status.HTTP_503_SERVICE_UNAVAILABLE)
    return html(sign_in_page(language))


@sign_in_router.post("/account/sign-in")
async def send_code(request: Request, parts: Account, session: Session) -> Response:
    same_origin(request)
    form = await form_of(request)
    language = language_of(form.get("lang"))
    if parts.secret is None:
        return html(notice_page(language, "off"), status.HTTP_503_SERVICE_UNAVAILABLE)
    try:
        identifier = Identifier.parse(form.get("identifier", ""))
    except NotAnIdentifier:
        return html(sign_in_page(language, "bad_identifier"), status.HTTP_400_BAD_REQUEST)
    wait = await parts.limits.code_wait_s(f"{identifier.kind}:{identifier.value}", client_address(request))
    if wait is not None:
        return html(notice_page(language, "too_many", seconds=wait), status.HTTP_429_TOO_MANY_REQUESTS,
                    {"Retry-After": str(wait)})
    try:
        card = await parts.cards.card_of(identifier)
    except PeerUnavailable:
        return html(notice_page(language, "unavailable"), status.HTTP_503_SERVICE_UNAVAILABLE)
    account = account_of(card, utcnow().date()) if card is not None else None
    attempt = uuid.uuid4()
    minutes = int(parts.code_ttl.total_seconds() // 60)
    if account is not None:
        code = new_code()
        now = utcnow()
        secret = parts.secret.get_secret_value()
        async with session.begin():
            expires_at = await account_store.save_code(session, attempt, code_hash(secret, attempt, code),
                                                       identifier, account, language, now, parts.code_ttl)
        subject, body = sign_in_message(language, code, minutes, parts.sign_in_url)
        await parts.publish(SignInCode(correlation_id=attempt, channel=identifier.channel,
                                       idempotency_key=f"signin:{attempt}", recipient=identifier.recipient(),
                                       subject=subject, body=body, expires_at=expires_at))
    # The same page either way: an unknown or unverified identifier gets an attempt no code opens.
    return RedirectResponse(f"/account/code?attempt={attempt}&lang={language}", status.HTTP_303_SEE_OTHER)


@sign_in_router.get("/account/code")
async def code_form(parts: Account, language: Language, attempt: uuid.UUID) -> HTMLResponse:
    if parts.secret is None:
        return html(notice_page(language, "off"), status.HTTP_503_SERVICE_UNAVAILABLE)
    return html(code_page(language, attempt, int(parts.code_ttl.total_seconds() // 60)))


@sign_in_router.post("/account/code")
async def enter_code(request: Request, parts: Account, session: Session) -> Response:
    same_origin(request)
    form = await form_of(request)
    language = language_of(form.get("lang"))
    if parts.secret is None:
        return html(notice_page(language, "off"), status.HTTP_503_SERVICE_UNAVAILABLE)
    try:
        attempt = uuid.UUID(form.get("attempt", ""))
    except ValueError:
        return html(sign_in_page(language), status.HTTP_400_BAD_REQUEST)
    code = form.get("code", "").strip()
    if (wait := await parts.limits.entry_wait_s(client_address(request))) is not None:
        return html(notice_page(language, "too_many", seconds=wait), status.HTTP_429_TOO_MANY_REQUESTS,
                    {"Retry-After": str(wait)})
    secret = parts.secret.get_secret_value()
    now = utcnow()
    async with session.begin():
        outcome = await account_store.check_code(
            session, attempt, lambda typed: code_hash(secret, attempt, typed), code[:16],
            max_attempts=parts.code_attempts, now=now, session_ttl=parts.session_ttl)
        customer = outcome.customer
        token = new_token()
        if customer is not None:
            await account_store.open_session(session, token_hash(secret, token), customer, now)
    if customer is None:
        return html(code_page(language, attempt, int(parts.code_ttl.total_seconds() // 60), wrong=True),
                    status.HTTP_400_BAD_REQUEST)
    response = RedirectResponse(f"/account?lang={customer.language}", status.HTTP_303_SEE_OTHER)
    response.set_cookie(COOKIE, token, max_age=int(parts.session_ttl.total_seconds()), path=COOKIE_PATH,
                        secure=parts.cookie_secure, httponly=True, samesite="lax")
    return response


@sign_in_router.post("/account/sign-out")
async def sign_out(request: Request, parts: Account, session: Session, language: Language) -> Response:
    same_origin(request)
    token = request.cookies.get(COOKIE)
    if token and parts.secret is not None:
        async with session.begin():
            await account_store.end_session(session, token_hash(parts.secret.get_secret_value(), token), utcnow())
    response = RedirectResponse(f"/account/sign-in?lang={language}", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE, path=COOKIE_PATH, secure=parts.cookie_secure, httponly=True, samesite="lax")
    return response
