"""The sender-authentication verdict on each mail's contact (issue 15, finding 9).

No network here: DNS answers come from a dictionary, with a DKIM key generated for the test and the mail signed
with it by dkimpy, SPF and DMARC records written for a made-up client domain. The SMTP path is driven by a real
client (aiosmtplib) from 127.0.0.1, so SPF judges the real client address and envelope sender.
"""

from __future__ import annotations

import base64
from pathlib import Path

import aiosmtplib
import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from priyom_contracts import AuthVerdict, ContactReceived
from priyom_intake_email.intake import MailIntake
from priyom_intake_email.mail.parsing import MailLimits
from priyom_intake_email.sender_auth import NO_VERDICT, SenderAuthenticator
from priyom_intake_email.sender_checks import Dns, SmtpClient
from priyom_intake_email.sender_verdict import Findings, authenticated, organisational_domain
from priyom_intake_email.settings import IntakeEmailSettings
from priyom_intake_email.smtp import SmtpEndpoint
from priyom_kit.blobs import FileBlobStore
from priyom_testing.ports import free_port

CORPUS = Path("/work/shared/corpus/email")
DOMAIN = "client.example"
FORGED = (b"From: Anna Petrova <anna@client.example>\r\nTo: support@priyom.local\r\nSubject: Re: 2026-000017\r\n"
          b"Message-ID: <forged-1@attacker.example>\r\n\r\n5\r\n")


@pytest.fixture(scope="module")
def key() -> tuple[bytes, bytes]:
    """A 1024-bit RSA key: the private PEM dkimpy signs with, and the public key's DER for the TXT record."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    der = private.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, der


def answers(der: bytes | None = None, *, spf: str | None = None, dmarc: str | None = "v=DMARC1; p=reject",
            selector: str = "s1", domain: str = DOMAIN):
    """A DNS that knows only what the test says: a DKIM key, an SPF record, a DMARC record."""
    records: dict[tuple[str, str], list] = {}
    if der is not None:
        records[(f"{selector}._domainkey.{domain}", "TXT")] = [(b"v=DKIM1; k=rsa; p=" + base64.b64encode(der),)]
    if spf is not None:
        records[(domain, "TXT")] = [(spf.encode(),)]
    if dmarc is not None:
        records[(f"_dmarc.{domain}", "TXT")] = [(dmarc.encode(),)]
    return Dns(answers=lambda name, qtype: records.get((name, qtype), []), timeout_s=1.0)


def signed(pem: bytes, raw: bytes = FORGED, domain: str = DOMAIN) -> bytes:
    return dkim.sign(raw, b"s1", domain.encode(), pem, include_headers=[b"from", b"subject", b"message-id"]) + raw


def test_a_mail_signed_by_the_claimed_domain_is_authenticated(key) -> None:
    pem, der = key
    verdict = SenderAuthenticator(dns=answers(der)).judge(signed(pem), "anna@client.example")
    assert verdict.authenticated is True
    assert (verdict.detail.dkim, verdict.detail.dmarc, verdict.detail.spf) == (
        AuthVerdict.PASS, AuthVerdict.PASS, AuthVerdict.NONE)
    assert verdict.detail.authority == "intake-email"


def test_a_tampered_or_foreign_signature_is_not(key) -> None:
    pem, der = key
    tampered = signed(pem).replace(b"\r\n\r\n5\r\n", b"\r\n\r\n1\r\n")
    verdict = SenderAuthenticator(dns=answers(der)).judge(tampered, "anna@client.example")
    assert (verdict.authenticated, verdict.detail.dkim) == (False, AuthVerdict.FAIL)
    # The attacker signs with their own domain: a valid signature, but not for the address claimed.
    theirs = signed(pem, domain="attacker.example")
    verdict = SenderAuthenticator(dns=answers(der, domain="attacker.example")).judge(theirs, "anna@client.example")
    assert verdict.detail.dkim is AuthVerdict.PASS and verdict.authenticated is not True


def test_spf_from_the_smtp_client(key) -> None:
    dns = answers(spf="v=spf1 ip4:192.0.2.10 -all")
    judge = SenderAuthenticator(dns=dns).judge
    forged = judge(FORGED, "anna@client.example", SmtpClient("203.0.113.5", "mx.attacker.example",
                                                             "anna@client.example"))
    assert forged.authenticated is False
    assert (forged.detail.spf, forged.detail.dmarc) == (AuthVerdict.FAIL, AuthVerdict.FAIL)
    real = judge(FORGED, "anna@client.example", SmtpClient("192.0.2.10", "mail.client.example",
                                                           "anna@client.example"))
    assert real.authenticated is True and real.detail.spf is AuthVerdict.PASS
    # From our own relay (INTAKE_EMAIL_SENDER_RELAYS) the client address is not the sender's: no SPF, no verdict.
    relayed = SenderAuthenticator(dns=dns, relays=["203.0.113.0/24"]).judge(
        FORGED, "anna@client.example", SmtpClient("203.0.113.5", "mx.priyom.test", "anna@client.example"))
    assert (relayed.authenticated, relayed.detail.spf, relayed.detail.dmarc) == (
        None, AuthVerdict.NONE, AuthVerdict.NONE)


def test_nothing_to_check_is_no_verdict() -> None:
    # Unsigned, read from a mailbox (no SMTP client), the domain publishes nothing: nothing proves or disproves.
    verdict = SenderAuthenticator(dns=answers(dmarc=None)).judge(FORGED, "anna@client.example")
    assert verdict.authenticated is None
    assert SenderAuthenticator(check_senders=False).judge(FORGED, "anna@client.example") == NO_VERDICT


def test_a_trusted_authentication_results_header_decides_and_others_are_ignored() -> None:
    ours = b"Authentication-Results: mx.priyom.test; spf=fail smtp.mailfrom=anna@client.example; dmarc=fail " \
           b"header.from=client.example\r\n"
    forged = b"Authentication-Results: mx.priyom.test; dmarc=pass header.from=client.example\r\n"  # below ours
    theirs = b"Authentication-Results: relay.attacker.example; dkim=pass header.d=client.example; " \
             b"dmarc=pass header.from=client.example\r\n"
    auth = SenderAuthenticator(trusted_authserv_ids=["MX.priyom.test"], check_senders=False)
    verdict = auth.judge(theirs + ours + forged + FORGED, "anna@client.example")
    assert verdict.authenticated is False and verdict.detail.authority == "mx.priyom.test"
    assert auth.judge(theirs + FORGED, "anna@client.example") == NO_VERDICT  # the sender's own word: ignored


@pytest.mark.skipif(not CORPUS.exists(), reason="shared corpus not present")
def test_real_mail_from_the_corpus(key) -> None:
    raw = (CORPUS / "mailgun-flanker" / "bilingual-simple.eml").read_bytes()  # DKIM-signed: yahoo.com, s1024
    # Gmail's header, trusted as for a Gmail mailbox read over IMAP: SPF passed for the From domain.
    gmail = SenderAuthenticator(trusted_authserv_ids=["mx.google.com"]).judge(raw, "hello@example.com")
    assert gmail.authenticated is True
    assert (gmail.detail.spf, gmail.detail.dkim, gmail.detail.authority) == (
        AuthVerdict.PASS, AuthVerdict.PASS, "mx.google.com")
    # Checked here against a key that is not yahoo.com's: its real signature does not verify with it.
    _, der = key
    ours = SenderAuthenticator(dns=answers(der, selector="s1024", domain="yahoo.com")).judge(
        raw, "hello@example.com")
    assert (ours.detail.dkim, ours.authenticated) == (AuthVerdict.FAIL, False)


async def test_the_smtp_path_puts_the_verdict_on_the_contact(tmp_path: Path) -> None:
    published: list[ContactReceived] = []

    async def publish(event: ContactReceived) -> None:
        published.append(event)

    async def dead_letter(raw: bytes, reason: str, source: str) -> None:
        raise AssertionError(reason)

    settings = IntakeEmailSettings(smtp_port=free_port(), SMTP_DOMAINS="priyom.local", smtp_max_bytes=1024 * 1024)
    auth = SenderAuthenticator(dns=answers(spf="v=spf1 ip4:192.0.2.10 -all"))  # 127.0.0.1 is no relay here
    intake = MailIntake(publish=publish, dead_letter=dead_letter, blobs=FileBlobStore(tmp_path / "blobs"),
                        limits=MailLimits(max_bytes=1024 * 1024), authenticator=auth)
    endpoint = SmtpEndpoint(settings, intake)
    await endpoint.start()
    try:
        await aiosmtplib.send(FORGED, sender="anna@client.example", recipients=["support@priyom.local"],
                              hostname="127.0.0.1", port=settings.smtp_port, start_tls=False, timeout=30)
    finally:
        await endpoint.stop()
    [event] = published
    assert event.contact.sender.email == "anna@client.example"
    assert event.contact.sender_authenticated is False  # 127.0.0.1 is not in client.example's SPF
    assert (event.contact.sender_auth.spf, event.contact.sender_auth.dmarc) == (AuthVerdict.FAIL, AuthVerdict.FAIL)


def test_alignment_is_by_organisational_domain() -> None:
    found = Findings(dkim_domains=["mail.client.co.uk"])
    assert found.aligned_pass("client.co.uk") and not found.aligned_pass("other.co.uk")
    assert not found.aligned_pass("client.co.uk", strict_dkim=True)  # adkim=s
    assert organisational_domain("a.b.client.co.uk") == "client.co.uk"
    # A DMARC result for another domain than the one claimed decides nothing about it.
    assert authenticated(Findings(dmarc=AuthVerdict.PASS, dmarc_domain="attacker.example"), "client.example") is None
    assert authenticated(Findings(spf=AuthVerdict.FAIL, dkim_domains=["client.example"]), "client.example") is True
    assert authenticated(Findings(spf=AuthVerdict.FAIL), "client.example") is False
    assert authenticated(Findings(), None) is None
