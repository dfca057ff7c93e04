"""A real SMTP relay for tests (aiosmtpd): keeps every mail it accepts, or refuses every recipient.

Replies and notices leave intake-email through an SMTP relay; tests point ``INTAKE_EMAIL_RELAY_PORT`` here and
read what the customer would receive, byte for byte, as sent over the wire.
"""

from __future__ import annotations

import email
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


class MailSink:
    """An aiosmtpd handler that keeps what it accepted, or refuses every recipient with ``refuse``."""

    def __init__(self, refuse: str | None = None, port: int = 0) -> None:
        self.refuse = refuse
        self.port = port
        self.messages: list[bytes] = []
        self._arrived = threading.Condition()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self._arrived:
            self.messages.append(envelope.content)
            self._arrived.notify_all()
        return "250 OK"

    def parsed(self) -> list[EmailMessage]:
        return [email.message_from_bytes(raw, policy=policy.default) for raw in list(self.messages)]  # type: ignore[misc]

    def wait_for(self, matches: Callable[[EmailMessage], bool], timeout: float = 30) -> EmailMessage:
        """The first mail received that ``matches``, waiting for it up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                found = next((m for m in self.parsed() if matches(m)), None)
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no such mail within {timeout}s; got {len(self.messages)}")
                self._arrived.wait(left)


@contextmanager
def running_sink(port: int, refuse: str | None = None) -> Iterator[MailSink]:
    """A :class:`MailSink` listening on 127.0.0.1:``port`` for the duration of the block."""
    handler = MailSink(refuse, port)
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()
