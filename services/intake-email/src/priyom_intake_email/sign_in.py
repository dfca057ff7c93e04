"""The portal's sign-in codes, mailed through the same relay as the replies (``intake-email.sign-in``).

A :class:`~priyom_contracts.SignInCode` is written by the portal and only delivered here. It is a secret for
a few minutes: the message is never logged (not its address, not its text), a code past its expiry is dropped
rather than sent, and nothing is reported back (the portal keeps only the code's hash; a customer whose code
did not arrive asks for another). A transient relay failure is retried by the bus while the code lives.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from priyom_contracts import SignInCode
from priyom_kit import Bus
from priyom_kit.errors import TransientError
from priyom_kit.logging import get_logger

from .outbound import Send
from .relay import permanent
from .settings import IntakeEmailSettings

log = get_logger("priyom.intake-email.sign-in")


def automatic_mail(to: str, subject: str, body: str, *, kind: str, from_address: str, from_name: str,
                   now: datetime) -> EmailMessage:
    """A mail the service writes by itself (a sign-in code, a notice to staff): an automatic message (RFC 3834),
    so no auto-responder answers it; ``kind`` heads its Message-ID."""
    message = EmailMessage()
    local, _, domain = from_address.partition("@")
    message["From"] = Address(display_name=from_name, username=local, domain=domain)
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<{kind}.{uuid.uuid4().hex}@{domain or 'localhost'}>"
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(body)
    return message


async def send_automatic(send: Send, message: EmailMessage, what: str) -> None:
    """Send through the relay: a refusal that will not change is logged and dropped, a transient one raised
    for the bus to retry. Only the exception's kind is logged: its text may quote the recipient."""
    try:
        await send(message)
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        if permanent(exc):
            log.warning(f"{what} refused by the relay", error=type(exc).__name__)
            return
        raise TransientError(f"relay unavailable: {type(exc).__name__}") from exc
    log.info(f"{what} sent")


def register_sign_in(bus: Bus, settings: IntakeEmailSettings, send: Send) -> None:
    @bus.consumer("intake-email.sign-in")
    async def on_sign_in_code(code: SignInCode) -> None:
        now = datetime.now(UTC)
        if code.recipient.email is None or code.expires_at <= now:
            log.info("sign-in code not sent", reason="no address" if code.recipient.email is None else "expired")
            return
        await send_automatic(send, automatic_mail(str(code.recipient.email), code.subject, code.body, kind="signin",
                                                  from_address=settings.from_address, from_name=settings.from_name,
                                                  now=now), "sign-in code")
