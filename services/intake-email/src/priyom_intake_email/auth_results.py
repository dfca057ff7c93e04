"""What our own receiving host wrote in ``Authentication-Results`` (RFC 8601). Pure (authres parses).

Anybody can put an ``Authentication-Results`` header into a mail, naming any host. Only a header whose
authserv-id is one of ours (``INTAKE_EMAIL_TRUSTED_AUTHSERV_IDS``: the MX or mailbox provider that received the
mail and checked it) is read, and only the topmost such header: a receiving host adds its header above the ones
the mail came with, and removes forged ones carrying its own id (RFC 8601 §5; Postfix with OpenDKIM/OpenDMARC,
Gmail and Microsoft 365 do). Every other header is ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from email.message import Message

import authres

from priyom_contracts import AuthVerdict

from .sender_verdict import Findings, domain_of, read_result


def trusted_findings(message: Message, trusted: Iterable[str]) -> Findings | None:
    """The findings of the topmost ``Authentication-Results`` written by a trusted authserv-id, or None."""
    ours = {t.strip().lower() for t in trusted if t.strip()}
    if not ours:
        return None
    for value in message.get_all("Authentication-Results") or []:
        try:
            header = authres.AuthenticationResultsHeader.parse_value(str(value))
        except Exception:  # noqa: BLE001, S112 - an unparsable header is nobody's word, ours or not
            continue
        if str(header.authserv_id).strip().lower() in ours:
            return _findings(header)
    return None


def _findings(header: authres.AuthenticationResultsHeader) -> Findings:
    found = Findings(authority=str(header.authserv_id))
    for result in header.results:
        method, verdict = str(result.method).lower(), read_result(str(result.method), str(result.result))
        props = {f"{p.type}.{p.name}".lower(): str(p.value) for p in result.properties}
        if method == "dkim":
            found.add_dkim(verdict, props.get("header.d") or domain_of(props.get("header.i")))
        elif method == "spf" and found.spf is not AuthVerdict.PASS:
            found.spf = verdict
            found.spf_domain = (domain_of(props.get("smtp.mailfrom")) or domain_of(props.get("smtp.mail"))
                                or props.get("smtp.helo"))
        elif method == "dmarc":
            found.dmarc, found.dmarc_domain = verdict, props.get("header.from")
    return found
