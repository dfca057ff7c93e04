"""HTTP helpers for channels that receive by webhook."""

from __future__ import annotations

from starlette.requests import Request


async def read_capped(request: Request, max_bytes: int) -> bytes | None:
    """The request body, or None as soon as it is over ``max_bytes`` (declared or streamed): a webhook must
    not buffer an unbounded body before it can refuse it."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            return None
    return bytes(body)
