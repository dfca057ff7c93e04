"""``/api/v1/tickets/{number}/replies`` and ``…/attachments``: what an agent sends the customer, the files
that go with it, and downloads of every attachment on the thread."""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at route definition.
import uuid
from pathlib import PurePath
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Header, HTTPException, Request, Response, status
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from priyom_contracts import AttachmentRef, utcnow

from .. import changes, reply_keys, store, uploads
from ..reply_paths import Sent, dead_addresses, reply_path
from ..views import ReplyAccepted, ReplyPathView, ReplyRequest
from .deps import ActableTicket, ActedTicket, Number, Parts, Session, Staff, ViewedTicket, commit, open_ticket

router = APIRouter(prefix="/api/v1/tickets/{number}", tags=["tickets"])

IdempotencyKey = Annotated[str | None, Header(
    min_length=1, max_length=reply_keys.MAX_KEY,
    description="The console's key for the reply it composed: a repeat answers 200 with the first reply and "
                "sends nothing again")]


@router.get("/reply-path", summary="Where a reply written now would go (shown before the agent sends)",
            responses={404: {"description": "No ticket has this number"}})
async def where_a_reply_goes(ticket: ViewedTicket, session: Session, parts: Parts) -> ReplyPathView:
    policy = parts.policy
    path = await reply_path(session, ticket, deliverable=policy.outbound_channels, fallback=policy.reply_fallback)
    warning = undeliverable_warning(await dead_addresses(session, ticket))
    if path is None:
        return ReplyPathView(channel=None, address=None, warning=warning,
                             because="the customer left no e-mail, messenger or phone: there is no way to answer",
                             reason="no_way")
    recipient = path.recipient
    messenger = recipient.messenger
    address = recipient.email or (f"{messenger.username or messenger.user_id}" if messenger else None)
    return ReplyPathView(channel=path.channel, address=address or recipient.phone or recipient.external_thread_id,
                         call_back=path.call_back, because=path.because, reason=path.reason,
                         warning=warning)


def undeliverable_warning(dead: dict[str, str]) -> str | None:
    """What the agent is told about the customer's addresses mail no longer reaches (None: there are none)."""
    if not dead:
        return None
    return "undeliverable (flagged by identity), not used: " + "; ".join(f"{a}: {why}" for a, why in dead.items())


@router.post("/replies", status_code=status.HTTP_202_ACCEPTED,
             summary="Send the customer a reply: on their channel, else where their card reaches them (e-mail, "
                     "Telegram), else as a call-back activity",
             responses={200: {"description": "A repeat of the Idempotency-Key: the reply it first made, not sent "
                                             "again"},
                        404: {"description": "No ticket has this number"},
                        409: {"description": "The ticket is closed, or the customer left no way to answer them "
                                              "(or only addresses identity flagged undeliverable: the detail says)"},
                        422: {"description": "Invalid body, or an Idempotency-Key already used for another text"}})
async def send_reply(body: ReplyRequest, ticket: ActedTicket, who: Staff, session: Session, parts: Parts,
                     response: Response, idempotency_key: IdempotencyKey = None) -> ReplyAccepted:
    if idempotency_key and (first := await _first_reply(session, ticket, idempotency_key, body.body)):
        response.status_code = status.HTTP_200_OK
        return await _accepted(session, ticket, first)
    await open_ticket(ticket)  # a repeat of a reply made before the ticket closed still gets its answer
    if len(body.attachments) > parts.limits.max_files:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"at most {parts.limits.max_files} files")
    for ref in body.attachments:
        if await parts.blobs.size(ref.blob_key) != ref.size:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                f"{ref.filename!r} was not uploaded (or not with this size)")
    try:
        sent = await changes.reply(session, ticket, body.body, author=who.name, policy=parts.policy, now=utcnow(),
                                   attachments=body.attachments, key=idempotency_key)
    except IntegrityError:
        if not idempotency_key:
            raise
        await session.rollback()  # the same key raced us in (no row lock on SQLite): answer with its reply
        first = await _first_reply(session, ticket, idempotency_key, body.body)
        if first is None:
            raise
        response.status_code = status.HTTP_200_OK
        return await _accepted(session, ticket, first)
    if sent is None:
        warning = undeliverable_warning(await dead_addresses(session, ticket))
        raise HTTPException(status.HTTP_409_CONFLICT, f"no reply path: {warning}" if warning else
                            "no reply path: the customer left no e-mail, messenger or phone to answer on")
    accepted = await _accepted(session, ticket, sent)
    await commit(session, parts)
    return accepted


async def _first_reply(session: AsyncSession, ticket: RowMapping, key: str, text: str) -> Sent | None:
    try:
        return await reply_keys.replied_with(session, ticket, key, text)
    except reply_keys.KeyReused as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


async def _accepted(session: AsyncSession, ticket: RowMapping, sent: Sent) -> ReplyAccepted:
    warning = undeliverable_warning(await dead_addresses(session, ticket))
    return ReplyAccepted(reply_id=sent.reply_id, channel=sent.channel, call_back=sent.call_back, warning=warning)


@router.post("/attachments", status_code=status.HTTP_201_CREATED,
             summary="Upload files for a reply (multipart, field `files`); the answer goes into the reply",
             responses={404: {"description": "No ticket has this number"},
                        411: {"description": "No Content-Length"},
                        413: {"description": "A file or the whole upload is over the limit"}})
async def upload(request: Request, _: ActableTicket, parts: Parts) -> list[AttachmentRef]:
    limits = parts.limits
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit():
        raise HTTPException(status.HTTP_411_LENGTH_REQUIRED, "Content-Length required")
    if int(declared) > limits.max_request_bytes:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"an upload is at most {limits.max_request_bytes} bytes")
    stored = []
    async with request.form(max_files=limits.max_files, max_fields=5) as form:
        files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
        if not files:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "no files in field 'files'")
        for file in files:
            name = PurePath((file.filename or "file").replace("\\", "/")).name[:255] or "file"
            try:
                kept = await uploads.store_stream(parts.blobs, limits.blob_dir, file.read, name, limits.max_bytes)
            except uploads.TooLarge as exc:
                raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, str(exc)) from None
            stored.append(AttachmentRef(blob_key=kept.blob_key, filename=name, content_type=kept.content_type,
                                        size=kept.size))
    return stored


@router.get("/attachments/{attachment_id}", summary="Download an attachment's content", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}},
                       404: {"description": "No such attachment on this ticket, or its content is gone"}})
async def download_attachment(number: Number, attachment_id: uuid.UUID, _: ViewedTicket, session: Session,
                              parts: Parts) -> Response:
    row = await store.attachment(session, number, attachment_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such attachment on this ticket")
    try:
        content = await parts.blobs.get(row["blob_key"])
    except KeyError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the attachment's content is not in the blob store") from None
    # Customer-supplied content: always a download, never rendered by the agent's browser.
    return Response(content, media_type=row["content_type"], headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row['filename'])}",
        "X-Content-Type-Options": "nosniff",
    })
