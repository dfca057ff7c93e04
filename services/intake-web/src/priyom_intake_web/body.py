"""Reading a submission's body: JSON or urlencoded fields in memory (small), multipart streamed.

A multipart body is parsed as it arrives (starlette's parser, files spooled to disk past 1 MiB), with the
total counted while it streams: the request is refused at ``max_request_bytes`` without ever holding the
files in memory. Before, the whole body (up to 25 MiB per request) was buffered, then copied again per
file, so a few dozen concurrent uploads could exhaust the process. Fields-only bodies are capped far lower
(:data:`FIELDS_MAX_BYTES`): the longest valid form is a few hundred kilobytes.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import Message

from priyom_kit.adapters.http import read_capped

#: Largest body without files (JSON or urlencoded): the message may be 100 000 characters of UTF-8.
FIELDS_MAX_BYTES = 1024 * 1024
_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


class BodyTooLarge(Exception):
    """Over the cap, declared or streamed: answered 413."""


class UnsupportedBody(Exception):
    """Neither JSON nor a form: answered 415."""


class BodyNotJson(Exception):
    """Declared JSON, but not: answered 422."""


async def read_submission(request: Request, max_bytes: int) -> tuple[Any, list[UploadFile]]:
    """The submitted fields (a dict, or whatever JSON held) and the uploaded files, read under the caps."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        body = await read_capped(request, min(max_bytes, FIELDS_MAX_BYTES))
        if body is None:
            raise BodyTooLarge
        try:
            return json.loads(body), []
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise BodyNotJson from None
    if content_type not in _FORM_TYPES:
        raise UnsupportedBody
    if content_type != "multipart/form-data":
        max_bytes = min(max_bytes, FIELDS_MAX_BYTES)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge
    form = await _counted(request, max_bytes).form(max_files=1000, max_fields=1000)
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    uploads = [u for u in form.getlist("attachments") if isinstance(u, UploadFile) and (u.filename or u.size)]
    return fields, uploads


def _counted(request: Request, max_bytes: int) -> Request:
    """The same request, whose body raises :class:`BodyTooLarge` as soon as more than ``max_bytes`` came."""
    received = 0

    async def receive() -> Message:
        nonlocal received
        message = await request.receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_bytes:
                raise BodyTooLarge
        return message

    return Request(request.scope, receive)
