"""``/account/new-request``: a signed-in customer's new request, with the knowledge base offered first.

"Next" searches the articles the customer may read for what they wrote (any word will do, as the web form's
suggestions) and shows them above the form; "send" publishes the request as the customer's message on the bus
(``contact.received.v1.portal``, from the identifier they signed in with, naming no ticket), the way the account's
replies go, and it opens a ticket as every channel's first message does. The form's random key is the message's
idempotency key (a double submit is one request) and the suggestion session the deflection rate counts.
"""

from __future__ import annotations

import uuid
from importlib import resources

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .. import search_index, store
from ..articles import CLIENTS, MAX_QUERY_CHARS, PUBLIC
from ..customer_acts import MAX_TEXT, new_request_message
from ..new_request_html import MAX_SUBJECT, SCRIPT_PATH, new_request_page
from .account_deps import Account, Language, SignedIn, form_of, html, language_of, same_origin
from .dependencies import Parts, Session
from .kb import search_hits

new_request_router = APIRouter(tags=["customer account pages"], include_in_schema=False)

#: The form's script (the articles offered while the customer types), read once.
_SCRIPT = (resources.files("priyom_portal") / "static" / "new_request.js").read_bytes()


@new_request_router.get(SCRIPT_PATH)
async def new_request_script() -> Response:
    return Response(_SCRIPT, media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"})


@new_request_router.get("/account/new-request")
async def new_request_form(customer: SignedIn, language: Language) -> HTMLResponse:
    return html(new_request_page(language, uuid.uuid4()))


@new_request_router.post("/account/new-request")
async def new_request(request: Request, customer: SignedIn, parts: Account, portal: Parts,
                      session: Session) -> Response:
    same_origin(request)
    form = await form_of(request)
    language = language_of(form.get("lang") or customer.language)
    try:
        key = uuid.UUID(form.get("key", ""))
    except ValueError:
        return Response("the form has no key", status.HTTP_400_BAD_REQUEST, media_type="text/plain")
    subject, text = form.get("subject", "").strip(), form.get("text", "").strip()
    if not text or len(text) > MAX_TEXT or len(subject) > MAX_SUBJECT:
        return html(new_request_page(language, key, subject=subject[:MAX_SUBJECT], text=text[:MAX_TEXT],
                                     too_long=True), status.HTTP_422_UNPROCESSABLE_ENTITY)
    if form.get("step") != "send":
        reader = CLIENTS if customer.account.reads_clients else PUBLIC
        query = search_index.Query(f"{subject} {text}"[:MAX_QUERY_CHARS], reader, limit=5, every_word=False)
        found = await search_hits(session, portal, query)
        portal.metrics.suggestions.labels("yes" if found.items else "no").inc()
        if found.items:
            await store.note_suggestions_shown(session, str(key))
            await session.commit()
        return html(new_request_page(language, key, subject=subject, text=text, hits=found.items))
    await parts.publish(new_request_message(customer.identifier, subject, text, key))
    return RedirectResponse(f"/account?lang={language}&sent=1", status.HTTP_303_SEE_OTHER)
