"""SPF, DKIM and DMARC checked here, for mail no trusted host has judged (:mod:`.mail.auth_results`).

dkimpy verifies the DKIM signatures, pyspf evaluates SPF (only when the SMTP path knows the client's address:
mail read from an IMAP mailbox has no client here), and DMARC is the small rule on top (RFC 7489 §6.6): the
domain's ``_dmarc`` record exists, and an SPF or DKIM pass aligned with the claimed domain passes it; without an
aligned pass it fails, unless SPF could not be checked at all (then nothing is concluded).

All DNS goes through one :class:`Dns`: by default the network (dnspython, as pyspf and dkimpy use it), or a
function answering ``(name, qtype)`` (tests, with a public key they made). The lookups block, so
:class:`~.sender_auth.SenderAuthenticator` runs this in a worker thread with a deadline.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dkim
import spf

from priyom_contracts import AuthVerdict

from .sender_verdict import Findings, domain_of, organisational_domain

#: ``(name, qtype)`` → answers in pyspf's shapes: a TXT record is a tuple of byte strings, A and AAAA an address
#: string, MX ``(preference, exchange)``, PTR a name.
Answers = Callable[[str, str], list[Any]]
#: More signatures than this on one mail are not tried (each is a DNS lookup and an RSA verification).
MAX_SIGNATURES = 5
AUTHORITY = "intake-email"
_TAGS = re.compile(r"\s*([a-z]+)\s*=\s*([^;]*)", re.IGNORECASE)


@dataclass(frozen=True)
class SmtpClient:
    """What SMTP knew of the sender: the client's address, its HELO name and the envelope sender."""

    ip: str
    helo: str = ""
    mail_from: str = ""


@dataclass(frozen=True)
class Dns:
    """Where the checks ask DNS: ``answers`` None asks the network through pyspf's and dkimpy's own resolvers."""

    answers: Answers | None = None
    timeout_s: float = 5.0

    def txt(self, name: str) -> list[bytes]:
        name = name.rstrip(".").lower()
        if self.answers is None:
            return [b"".join(_as_bytes(p) for p in record)
                    for _, record in spf.DNSLookup(name, "TXT", True, self.timeout_s)]
        return [b"".join(_as_bytes(p) for p in record) for record in self.answers(name, "TXT")]

    def dkim_txt(self, name: bytes | str, timeout: float = 5) -> bytes | None:
        """dkimpy's ``dnsfunc``: the key record's text, or None."""
        records = self.txt(name.decode("ascii", "replace") if isinstance(name, bytes) else name)
        return records[0] if records else None

    def spf_query(self, client: SmtpClient) -> spf.query:
        if self.answers is None:
            return spf.query(i=client.ip, s=client.mail_from, h=client.helo, timeout=self.timeout_s)
        return _AnsweredQuery(self.answers, i=client.ip, s=client.mail_from, h=client.helo)


class _AnsweredQuery(spf.query):
    """pyspf's query with its lookups answered by a given function instead of DNS."""

    def __init__(self, answers: Answers, **kwargs: Any) -> None:
        self._answers = answers
        super().__init__(**kwargs)

    def dns(self, name: str, qtype: str, cnames: Any = None, ignore_void: bool = False) -> list[Any]:  # noqa: ARG002
        return list(self._answers(str(name).rstrip(".").lower(), qtype))


def _as_bytes(part: bytes | str) -> bytes:
    return part if isinstance(part, bytes) else part.encode()


def check(raw: bytes, claimed_domain: str | None, client: SmtpClient | None, dns: Dns) -> Findings:
    """DKIM on every mail, SPF when SMTP knows the client, then DMARC for the claimed domain."""
    found = Findings(authority=AUTHORITY)
    check_dkim(raw, found, dns)
    if client is not None and client.ip:
        check_spf(client, found, dns)
    if claimed_domain:
        found.dmarc = check_dmarc(claimed_domain, found, dns, spf_checked=client is not None and bool(client.ip))
        found.dmarc_domain = claimed_domain
    return found


def check_dkim(raw: bytes, found: Findings, dns: Dns) -> None:
    try:
        verifier = dkim.DKIM(raw, timeout=int(dns.timeout_s) or 1)
    except Exception:  # noqa: BLE001 - a mail dkimpy cannot even read has no signature we can check
        return
    signatures = sum(1 for name, _ in verifier.headers if name.lower() == b"dkim-signature")
    for idx in range(min(signatures, MAX_SIGNATURES)):
        try:
            ok = verifier.verify(idx=idx, dnsfunc=dns.dkim_txt)
        except dkim.DnsTimeoutError:
            continue  # no answer is no verdict
        except Exception:  # noqa: BLE001 - dkimpy's DKIMException and what a hostile signature provokes
            ok = False
        domain = verifier.domain.decode("ascii", "replace") if ok and verifier.domain else None
        found.add_dkim(AuthVerdict.PASS if ok else AuthVerdict.FAIL, domain)


def check_spf(client: SmtpClient, found: Findings, dns: Dns) -> None:
    try:
        result, _, _ = dns.spf_query(client).check()
    except Exception:  # noqa: BLE001 - a lookup that broke is no verdict
        return
    found.spf = {"pass": AuthVerdict.PASS, "fail": AuthVerdict.FAIL,
                 "softfail": AuthVerdict.FAIL}.get(str(result).lower(), AuthVerdict.NONE)
    found.spf_domain = domain_of(client.mail_from) or client.helo.lower() or None


def dmarc_policy(domain: str, dns: Dns) -> dict[str, str] | None:
    """The tags of the domain's DMARC record, else of its organisational domain's; None without one."""
    for name in dict.fromkeys((domain, organisational_domain(domain))):
        try:
            records = dns.txt(f"_dmarc.{name}")
        except Exception:  # noqa: BLE001 - DNS trouble is no record
            return None
        for record in records:
            text = record.decode("utf-8", "replace")
            if text.strip().lower().startswith("v=dmarc1"):
                return {k.lower(): v.strip().lower() for k, v in _TAGS.findall(text)}
    return None


def check_dmarc(domain: str, found: Findings, dns: Dns, *, spf_checked: bool) -> AuthVerdict:
    policy = dmarc_policy(domain, dns)
    if policy is None:
        return AuthVerdict.NONE
    if found.aligned_pass(domain, strict_dkim=policy.get("adkim") == "s", strict_spf=policy.get("aspf") == "s"):
        return AuthVerdict.PASS
    return AuthVerdict.FAIL if spf_checked else AuthVerdict.NONE
