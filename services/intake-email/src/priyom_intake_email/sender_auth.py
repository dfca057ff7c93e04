"""The sender-authentication verdict each mail carries on its contact (issue 15, finding 9).

A mail's ``From`` is a claim: tickets lets an unproven claim of a known client's address neither rate nor close
nor reopen a ticket. The verdict comes from our own receiving host's ``Authentication-Results`` when it wrote
one (``INTAKE_EMAIL_TRUSTED_AUTHSERV_IDS``), else from checking the mail here (``INTAKE_EMAIL_CHECK_SENDERS``:
DKIM always, SPF on the SMTP path, DMARC on top; :mod:`.sender_checks`). A check that cannot finish in time
gives no verdict rather than holding the mail: ``None`` is what tickets already knows how to treat.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, replace
from email.parser import BytesHeaderParser
from email.policy import compat32
from ipaddress import ip_address, ip_network

from priyom_contracts import SenderAuthentication
from priyom_kit.deadlines import bounded
from priyom_kit.logging import get_logger

from .auth_results import trusted_findings
from .sender_checks import Dns, SmtpClient, check
from .sender_verdict import authenticated, domain_of

log = get_logger("priyom.intake-email.sender-auth")


@dataclass(frozen=True)
class Verdict:
    """What goes on the contact: the overall verdict and each mechanism's result (both None: nothing judged)."""

    authenticated: bool | None = None
    detail: SenderAuthentication | None = None


NO_VERDICT = Verdict()


class SenderAuthenticator:
    """Judges one mail's claimed address: a trusted header's word first, else our own checks."""

    def __init__(self, *, trusted_authserv_ids: Iterable[str] = (), check_senders: bool = True,
                 dns: Dns | None = None, relays: Iterable[str] = ()) -> None:
        self.trusted = frozenset(t.strip().lower() for t in trusted_authserv_ids if t.strip())
        self.check_senders = check_senders
        self.dns = dns or Dns()
        #: Our own mail servers in front of the SMTP endpoint: their address is not the sender's, so no SPF.
        self.relays = tuple(ip_network(r.strip(), strict=False) for r in relays if r.strip())

    def _spf_client(self, client: SmtpClient | None) -> SmtpClient | None:
        if client is None or not client.ip:
            return client
        try:
            address = ip_address(client.ip)
        except ValueError:
            return replace(client, ip="")
        return replace(client, ip="") if any(address in net for net in self.relays) else client

    def judge(self, raw: bytes, claimed: str | None, client: SmtpClient | None = None) -> Verdict:
        """The verdict on ``claimed`` (the contact's sender address) for the mail ``raw``. Blocking (DNS)."""
        domain = domain_of(claimed)
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
        findings = trusted_findings(headers, self.trusted)
        if findings is None and self.check_senders:
            findings = check(raw, domain, self._spf_client(client), self.dns)
        if findings is None:
            return NO_VERDICT
        return Verdict(authenticated(findings, domain), findings.report())

    async def judge_in_time(self, raw: bytes, claimed: str | None, client: SmtpClient | None = None) -> Verdict:
        """:meth:`judge` in a worker thread; past a deadline (a few DNS timeouts) or on any error, no verdict."""
        deadline = self.dns.timeout_s * 4
        try:
            return await bounded(asyncio.to_thread(self.judge, raw, claimed, client), timeout=deadline)
        except Exception as exc:  # noqa: BLE001 - a check that broke must not lose the mail: no verdict instead
            log.warning("sender not judged", error=type(exc).__name__)
            return NO_VERDICT
