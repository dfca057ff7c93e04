"""The customers' mail server: takes every notice and reply intake-email relays, as a real relay would.

Without one, the notices tickets sends to customers who wrote in by mail or by the form (acknowledgements
with the ticket's number) could not be delivered and would end, after their retries, in the dead-letter
queue, which the run requires to be empty.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session

from ..ports import free_port


@dataclass
class _Sink:
    received: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server: object, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.received.append(bytes(envelope.original_content or b""))
        return "250 OK"


@asynccontextmanager
async def mail_sink() -> AsyncIterator[tuple[int, list[bytes]]]:
    """``async with mail_sink() as (port, received)``: an SMTP server on ``port`` keeping what it got."""
    sink = _Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, sink.received
    finally:
        controller.stop()
