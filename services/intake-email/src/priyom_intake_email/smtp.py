"""The SMTP endpoint (aiosmtpd, in the service's own event loop) so the service can sit behind an MX.

It accepts mail only for the configured domains and addresses (550 for others: no open relay), enforces the
size limit (552, while DATA streams in), bounds concurrent sessions (421 beyond), optionally requires AUTH
and offers STARTTLS, and answers ``250`` to DATA only after the
mail is safe on the bus (a confirmed publish, or the dead-letter queue for mail that can never be a
contact). When the broker does not confirm, it answers ``451`` so the sending server keeps the mail and
retries: the sender is never told "delivered" before we have it (zammad#806).
"""

from __future__ import annotations

import asyncio
import hmac
import ssl
from dataclasses import dataclass
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from priyom_kit.gate import Gate
from priyom_kit.logging import get_logger

from .intake import MailIntake, Outcome
from .sender_checks import SmtpClient
from .settings import IntakeEmailSettings

log = get_logger("priyom.intake-email.smtp")


@dataclass
class MailHandler:
    """aiosmtpd handler: recipient policy and the 250-after-confirm rule."""

    intake: MailIntake
    domains: frozenset[str]
    recipients: frozenset[str]

    def accepts(self, address: str) -> bool:
        address = address.strip().lower()
        domain = address.rpartition("@")[2]
        return address in self.recipients or domain in self.domains

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if not self.accepts(address):
            return "550 5.7.1 Relaying denied: this server accepts mail only for its own domains"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.original_content or envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode("utf-8", "surrogateescape")
        try:
            outcome = (await self.intake.accept(raw, "smtp", client=smtp_client(session, envelope))).outcome
        except Exception as exc:  # noqa: BLE001 - whatever failed, the sender must keep the mail and retry
            log.warning("mail not accepted, sender told to retry", error=type(exc).__name__)
            return "451 4.3.0 Temporary failure, please try again later"
        if outcome is Outcome.DEAD_LETTERED:
            return "250 2.0.0 Accepted for review"
        return "250 2.0.0 OK: queued"


def smtp_client(session: Session, envelope: Envelope) -> SmtpClient:
    """What SPF judges: the connecting host's address, its HELO name and the envelope sender."""
    peer = session.peer
    ip = peer[0] if isinstance(peer, tuple) and peer else ""
    return SmtpClient(ip=str(ip), helo=session.host_name or "", mail_from=envelope.mail_from or "")


class LenientSMTP(SMTP):
    """RFC 5321 allows 1000-octet lines, but real senders (and MXs that forward to us) exceed it, and Postfix
    accepts them (it stores a long line in pieces and joins them on delivery). A helpdesk must not bounce a
    customer's mail for that, so a line of any length within the message size limit is taken whole; aiosmtpd
    would answer ``500 Line too long`` after 1001 octets. Commands keep their 512-octet limit (aiosmtpd's
    ``command_size_limit``), checked once the line is read."""

    line_length_limit = 64 * 1024

    def __init__(self, handler: Any, **kwargs: Any) -> None:
        # aiosmtpd sizes the stream reader (made in its __init__) and its DATA line check by this one number:
        # a line may be as long as the whole message may be (BoundedSMTP ends a session whose line outgrows
        # even that).
        self.line_length_limit = max(type(self).line_length_limit, (kwargs.get("data_size_limit") or 0) + 2)
        super().__init__(handler, **kwargs)


#: How many SMTP sessions are open, against the most allowed (``INTAKE_EMAIL_SMTP_MAX_SESSIONS``). aiosmtpd
#: keeps each session's DATA in memory until the end of data, so without a bound a crowd of slow senders
#: could hold any amount of memory before the parse budget (:mod:`.memory`) ever sees it.
SessionGate = Gate


TOO_MANY_CONNECTIONS = b"421 4.3.2 Too many connections, try later\r\n"
#: Seconds a session ended for an endless line still drains its input before closing.
LINGER_S = 2.0
ENDLESS_LINE = b"552 5.3.4 Too much mail data without a line break, closing\r\n"


class BoundedSMTP(LenientSMTP):
    """A session counted against a :class:`SessionGate`, and a DATA that cannot outgrow the size limit.

    Beyond the gate the connection gets a ``421`` greeting and is closed before aiosmtpd starts a session
    (RFC 5321 §3.1: the sending server retries later). aiosmtpd 1.4.6 discards DATA past
    ``data_size_limit`` and answers ``552`` at the end of data, but it still collects a line without a line
    break whole, whatever its length (measured: 200 MiB sent without CRLF grew the process by 200 MiB under a
    1 MiB limit). So a run of bytes without a line feed longer than the size limit ends the session here."""

    def __init__(self, handler: Any, *, sessions: SessionGate, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._gate = sessions
        self._counted = False
        self._refused = False
        self._unbroken = 0  # bytes received since the last line feed

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.transport is None and not self._counted:  # STARTTLS calls it again for the same session
            if not self._gate.enter():
                self._refused = True
                log.warning("smtp session refused: too many at once", limit=self._gate.limit)
                transport.write(TOO_MANY_CONNECTIONS)  # type: ignore[attr-defined]
                transport.close()
                return
            self._counted = True
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        line_feed = data.rfind(b"\n")
        self._unbroken = len(data) - line_feed - 1 if line_feed >= 0 else self._unbroken + len(data)
        if self.data_size_limit and self._unbroken > self.data_size_limit and self.transport is not None:
            log.warning("smtp session closed: a line longer than the size limit")
            self._refused = True  # from now on what arrives is dropped
            transport = self.transport
            transport.write(ENDLESS_LINE)  # type: ignore[attr-defined]
            if transport.can_write_eof():  # type: ignore[attr-defined]
                transport.write_eof()  # type: ignore[attr-defined]
            # Closing at once with unread input would reset the connection and lose the 552 on the way.
            self.loop.call_later(LINGER_S, transport.close)
            return
        super().data_received(data)

    def eof_received(self) -> bool | None:
        if self._refused and not self._counted:
            return False
        return super().eof_received()

    def connection_lost(self, error: Exception | None) -> None:
        try:
            if self._counted:
                super().connection_lost(error)
        finally:
            if self._counted:
                self._counted = False
                self._gate.leave()


def _authenticator(logins: dict[str, str]) -> Any:
    def authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                     auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        expected = logins.get(login)
        ok = expected is not None and hmac.compare_digest(expected.encode(), auth_data.password)
        return AuthResult(success=ok, handled=False)

    return authenticate


def parse_logins(value: str) -> dict[str, str]:
    """``user:password,user2:password2`` to a dict (passwords may contain ':')."""
    pairs = (item.split(":", 1) for item in value.split(",") if ":" in item)
    return {user.strip(): password for user, password in pairs}


class SmtpEndpoint:
    """Starts and stops the SMTP server inside the running loop."""

    def __init__(self, settings: IntakeEmailSettings, intake: MailIntake) -> None:
        self.settings = settings
        self.handler = MailHandler(intake, frozenset(d.lower() for d in settings.smtp_domains),
                                   frozenset(r.lower() for r in settings.smtp_recipients))
        self.sessions = SessionGate(settings.smtp_max_sessions)
        self.server: asyncio.Server | None = None

    def _protocol(self) -> SMTP:
        s = self.settings
        tls_context = None
        if s.smtp_tls_cert and s.smtp_tls_key:
            tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls_context.load_cert_chain(s.smtp_tls_cert, s.smtp_tls_key)
        logins = parse_logins(s.smtp_auth.get_secret_value()) if s.smtp_auth else {}
        return BoundedSMTP(
            self.handler,
            sessions=self.sessions,
            # Advertised as SIZE, checked against MAIL FROM's SIZE=, and enforced while DATA streams in:
            # past it aiosmtpd keeps nothing more and answers 552 at the end of data.
            data_size_limit=s.smtp_max_bytes,
            enable_SMTPUTF8=True,
            hostname=s.smtp_hostname,
            tls_context=tls_context,
            auth_required=bool(logins),
            # AUTH over plaintext only when no TLS is configured at all (a loopback forward, tests).
            auth_require_tls=tls_context is not None,
            authenticator=_authenticator(logins) if logins else None,
            command_call_limit=100,
            timeout=300,
        )

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(self._protocol, self.settings.smtp_host, self.settings.smtp_port)
        log.info("smtp listening", host=self.settings.smtp_host, port=self.settings.smtp_port)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
