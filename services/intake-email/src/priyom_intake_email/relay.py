"""Replies, notices and sign-in codes to the SMTP relay, over connections kept open between messages.

A connection a message (``aiosmtplib.send``) cost every notice a TCP handshake, EHLO, STARTTLS where offered, a
login where configured and QUIT, and aiosmtplib looked this host's name up (``socket.getfqdn``, a DNS query in a
worker thread) for each EHLO. Mail transfer agents keep their connections to a relay for the same reason
(Postfix's connection cache). A message takes a kept connection or opens one, as many at once as before; up to
:data:`KEPT` wait for the next messages. A connection that failed in any way is closed, never reused, so a failed
send is reported and retried as before (by the bus); one the relay closed while it waited (its idle timeout) is
noticed before use (closed, or no answer to NOOP after :data:`CHECK_AFTER_S`) and replaced, and a message that
fails on a kept connection for any reason but a refusal (5xx) is tried once more on a new one at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from email.message import EmailMessage

import aiosmtplib

from priyom_kit.deadlines import bounded

from .settings import IntakeEmailSettings

#: Connections kept open between messages; more are opened while more messages are sent at once.
KEPT = 8
#: A connection idle for longer is asked NOOP before a message goes over it (relays close idle ones: Postfix
#: after 300 s, some much sooner).
CHECK_AFTER_S = 20.0


class RelayConnections:
    """``await relay.send(message)``: the relay's answer, or the exception of a failed send."""

    def __init__(self, settings: IntakeEmailSettings, *, kept: int = KEPT,
                 check_after_s: float = CHECK_AFTER_S) -> None:
        self.settings = settings
        self.kept = kept
        self.check_after_s = check_after_s
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []  # the last one returned is taken first
        self._quitting: set[asyncio.Task[None]] = set()
        #: Connections opened so far (for tests and the log: a steady stream opens a few, not one a message).
        self.opened = 0

    async def send(self, message: EmailMessage) -> object:
        smtp, kept = await self._take()
        try:
            answer = await _send_over(smtp, message)
        except Exception as exc:
            if not kept or permanent(exc):
                raise
            # A kept connection can fail where a new one would not: the relay ended it meanwhile without a word,
            # or allows only so many messages a connection (Exchange's MaxMessagesPerConnection). Once more on a
            # new one, as the bus's retry would, without its delay; a refusal of the message itself is final.
            smtp, _ = await self._take(kept_ones=False)
            answer = await _send_over(smtp, message)
        self._give_back(smtp)
        return answer

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        await asyncio.gather(*(_quit(smtp) for smtp, _ in idle))

    async def _take(self, *, kept_ones: bool = True) -> tuple[aiosmtplib.SMTP, bool]:
        """A connection, and whether it is a kept one (else just opened)."""
        loop = asyncio.get_running_loop()
        while kept_ones and self._idle:
            smtp, since = self._idle.pop()
            if smtp.is_connected and (loop.time() - since < self.check_after_s or await _answers(smtp)):
                return smtp, True
            await _close(smtp)
        settings = self.settings
        smtp = aiosmtplib.SMTP(
            hostname=settings.relay_host, port=settings.relay_port, username=settings.relay_username,
            password=settings.relay_password.get_secret_value() if settings.relay_password else None,
            start_tls=settings.relay_starttls, timeout=settings.relay_timeout_s)
        await smtp.connect()  # EHLO, STARTTLS and the login, as aiosmtplib.send does them
        self.opened += 1
        return smtp, False

    def _give_back(self, smtp: aiosmtplib.SMTP) -> None:
        if len(self._idle) < self.kept and smtp.is_connected:
            self._idle.append((smtp, asyncio.get_running_loop().time()))
            return
        quitting = asyncio.get_running_loop().create_task(_quit(smtp))
        self._quitting.add(quitting)  # held until done: the loop keeps only a weak reference to a task
        quitting.add_done_callback(self._quitting.discard)


def permanent(exc: Exception) -> bool:
    """A 5xx from the relay (recipient refused, message rejected): the same answer on any connection and on any
    retry, so the sender reports it failed instead of retrying."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(getattr(r, "code", 500) >= 500 for r in exc.recipients)
    code = getattr(exc, "code", None)
    return isinstance(exc, aiosmtplib.SMTPResponseException) and isinstance(code, int) and code >= 500


async def _send_over(smtp: aiosmtplib.SMTP, message: EmailMessage) -> object:
    """The relay's answer; a connection a send failed on in any way is closed, never used again."""
    try:
        return await smtp.send_message(message)
    except BaseException:
        await _close(smtp)
        raise


async def _answers(smtp: aiosmtplib.SMTP) -> bool:
    try:
        await smtp.noop(timeout=5)
    except Exception:  # noqa: BLE001 - any failure: the connection is not worth keeping
        return False
    return True


async def _quit(smtp: aiosmtplib.SMTP) -> None:
    with contextlib.suppress(Exception):
        await bounded(smtp.quit(), 5)
    await _close(smtp)


async def _close(smtp: aiosmtplib.SMTP) -> None:
    with contextlib.suppress(Exception):
        smtp.close()
