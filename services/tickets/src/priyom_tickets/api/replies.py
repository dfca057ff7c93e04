"""``/api/v1/tickets/{number}/replies`` and ``…/attachments``: what an agent sends the customer, the files
that go with it, and downloads of every attachment on the thread."""

# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases at route definition.
import uuid
from pathlib import PurePath
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request, Response, status
from starlette.datastructures import UploadFile

from priyom_contracts import AttachmentRef, utcnow

from .. import changes, store, uploads
from ..views import ReplyAccepted, ReplyRequest
from .deps import ActableTicket, Number, OpenTicket, Parts, Session, Staff, ViewedTicket, commit

router = APIRouter(prefix="/api/v1/tickets/{number}", tags=["tickets"])


@router.post("/replies", status_code=status.HTTP_202_ACCEPTED,
             summary="Send the customer a reply on the ticket's channel",
             responses={404: {"description": "No ticket has this number"},
                        409: {"description": "The ticket is closed, or its channel cannot carry replies"}})
async def send_reply(body: ReplyRequest, ticket: OpenTicket, who: Staff, session: Session,
                     parts: Parts) -> ReplyAccepted:
    if len(body.attachments) > parts.limits.max_files:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"at most {parts.limits.max_files} files")
    for ref in body.attachments:
        if await parts.blobs.size(ref.blob_key) != ref.size:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                f"{ref.filename!r} was not uploaded (or not with this size)")
    sent = await changes.reply(session, ticket, body.body, author=who.name, policy=parts.policy, now=utcnow(),
                               attachments=body.attachments)
    if sent is None:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            f"no reply path: channel {ticket['channel']!r} cannot deliver replies")
    await commit(session, parts)
    return ReplyAccepted(reply_id=sent.reply_id, channel=sent.channel)


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
