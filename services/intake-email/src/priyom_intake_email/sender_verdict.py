"""Is the address a mail claims proven? SPF, DKIM and DMARC findings reduced to one verdict. Pure.

The claimed address is the one the contact carries (``From`` first, see ``intake._sender``); what is proven
is its domain, in DMARC's sense: a DMARC result for that domain decides; without one, an SPF or DKIM pass for a
domain *aligned* with it (the same organisational domain) proves it, and a failing SPF or DKIM without any
aligned pass disproves it. Nothing conclusive gives ``None``: tickets then decides by its own setting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from publicsuffixlist import PublicSuffixList

from priyom_contracts import AuthVerdict, SenderAuthentication

#: How each mechanism's RFC 8601 result reads as a verdict; anything else (neutral, none, temperror, and SPF's
#: permerror, a broken record of the sender's) is inconclusive.
_VERDICTS = {"pass": AuthVerdict.PASS, "fail": AuthVerdict.FAIL, "softfail": AuthVerdict.FAIL,
             "policy": AuthVerdict.FAIL}
_DKIM_VERDICTS = _VERDICTS | {"permerror": AuthVerdict.FAIL}  # a signature that cannot verify


def read_result(method: str, result: str) -> AuthVerdict:
    """The verdict of one mechanism's result word (``dkim``, ``spf`` or ``dmarc``)."""
    table = _DKIM_VERDICTS if method.lower() == "dkim" else _VERDICTS
    return table.get(result.strip().lower(), AuthVerdict.NONE)


@dataclass
class Findings:
    """What was found about one mail, each mechanism with the domain its result is for."""

    authority: str | None = None
    spf: AuthVerdict = AuthVerdict.NONE
    spf_domain: str | None = None
    dkim: AuthVerdict = AuthVerdict.NONE
    #: The ``d=`` of every signature that verified.
    dkim_domains: list[str] = field(default_factory=list)
    dmarc: AuthVerdict = AuthVerdict.NONE
    dmarc_domain: str | None = None

    def add_dkim(self, verdict: AuthVerdict, domain: str | None) -> None:
        """One signature's result: any pass makes DKIM pass; a failure counts only when nothing passed."""
        if verdict is AuthVerdict.PASS:
            self.dkim = AuthVerdict.PASS
            if domain:
                self.dkim_domains.append(domain.lower())
        elif verdict is AuthVerdict.FAIL and self.dkim is not AuthVerdict.PASS:
            self.dkim = AuthVerdict.FAIL

    def aligned_pass(self, domain: str, *, strict_dkim: bool = False, strict_spf: bool = False) -> bool:
        """An SPF or DKIM pass for a domain aligned with ``domain`` (DMARC's identifier alignment)."""
        dkim = any(aligned(d, domain, strict=strict_dkim) for d in self.dkim_domains)
        spf = self.spf is AuthVerdict.PASS and self.spf_domain is not None and aligned(
            self.spf_domain, domain, strict=strict_spf)
        return dkim or spf

    def report(self) -> SenderAuthentication:
        return SenderAuthentication(spf=self.spf, dkim=self.dkim, dmarc=self.dmarc,
                                    authority=self.authority[:500] if self.authority else None)


@cache
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList()  # the list shipped with the package: no download


def organisational_domain(domain: str) -> str:
    """``mail.example.co.uk`` → ``example.co.uk`` (RFC 7489 §3.2, by the public suffix list)."""
    domain = domain.strip().strip(".").lower()
    return _suffixes().privatesuffix(domain) or domain


def aligned(found: str, claimed: str, *, strict: bool = False) -> bool:
    found, claimed = found.strip().strip(".").lower(), claimed.strip().strip(".").lower()
    if strict:
        return found == claimed
    return organisational_domain(found) == organisational_domain(claimed)


def authenticated(findings: Findings, claimed_domain: str | None) -> bool | None:
    """True when the claimed domain is proven, False when the mechanisms speak against it, else None."""
    if not claimed_domain:
        return None
    dmarc_for_it = findings.dmarc_domain is None or aligned(findings.dmarc_domain, claimed_domain, strict=True)
    if findings.dmarc is AuthVerdict.PASS and dmarc_for_it:
        return True
    if findings.dmarc is AuthVerdict.FAIL and dmarc_for_it:
        return False
    if findings.aligned_pass(claimed_domain):
        return True
    if AuthVerdict.FAIL in (findings.spf, findings.dkim):
        return False
    return None


def domain_of(address: str | None) -> str | None:
    if not address or "@" not in address:
        return None
    return address.rpartition("@")[2].strip().strip(">").lower() or None
