"""IMAP over TLS and with OAuth2, against a real Dovecot started here with a throwaway self-signed certificate
and an OAuth2 introspection endpoint: implicit TLS, STARTTLS (and no clear-text fallback), an untrusted
certificate refused, XOAUTH2 with a refresh token exchanged at a token endpoint, a refused token retried
without hanging."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from priyom_intake_email.oauth2 import AccessTokens, TokenError
from priyom_intake_email.settings import ImapMailbox, IntakeEmailSettings
from priyom_kit import HttpClient
from priyom_testing.dovecot import Dovecot, dovecot_or_skip

from .conftest import BusReader
from .test_imap import append, service


@dataclass
class OAuthProvider:
    """A token endpoint (refresh_token grant) and the RFC 7662 introspection endpoint Dovecot asks."""

    refresh_token: str = "rt-good"
    rotate: bool = False  # answer each refresh with a new refresh token (as Microsoft's endpoint does)
    expires_in: int = 3600
    issued: dict[str, str] = field(default_factory=dict)  # access token -> user
    token_requests: int = 0
    introspected: list[str] = field(default_factory=list)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _handler(provider: OAuthProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            pass

        def _answer(self, status: int, body: dict[str, object]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            form = urllib.parse.parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
            if self.path.startswith("/token"):
                provider.token_requests += 1
                if form.get("grant_type") != ["refresh_token"] or form.get("refresh_token") != [provider.refresh_token]:
                    self._answer(400, {"error": "invalid_grant"})
                    return
                token = f"at-{provider.token_requests}"
                provider.issued[token] = form["client_id"][0]  # the test's client id is the mailbox user
                answer: dict[str, object] = {"access_token": token, "token_type": "Bearer",
                                             "expires_in": provider.expires_in}
                if provider.rotate:
                    provider.refresh_token = answer["refresh_token"] = f"rt-{provider.token_requests}"
                self._answer(200, answer)
            elif self.path.startswith("/introspect"):
                token = (form.get("token") or [""])[0]
                provider.introspected.append(token)
                user = provider.issued.get(token)
                self._answer(200, {"active": "true", "username": user} if user else {"active": "false"})
            else:
                self._answer(404, {})

    return Handler


@pytest.fixture(scope="module")
def oauth_provider() -> Iterator[OAuthProvider]:
    provider = OAuthProvider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    provider.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield provider
    server.shutdown()


@pytest.fixture(scope="module")
def secure_dovecot(oauth_provider: OAuthProvider) -> Iterator[Dovecot]:
    with dovecot_or_skip(tls=True, oauth2_introspection_url=oauth_provider.url("/introspect")) as server:
        yield server


def configured(settings: IntakeEmailSettings, box: ImapMailbox) -> IntakeEmailSettings:
    return settings.model_copy(update={"imap_mailboxes": [box], "smtp_enabled": False})


def login_lines(dovecot: Dovecot, user: str, *, tls: bool | None = None) -> list[str]:
    """Dovecot's log lines of ``user``'s logins; ``tls``: only those over TLS (or only those without)."""
    log = (dovecot.root / "dovecot.log").read_text(errors="replace")
    lines = [line for line in log.splitlines() if "Login: user=<" + user + ">" in line]
    return lines if tls is None else [line for line in lines if (", TLS" in line) == tls]


def mail(tag: str) -> bytes:
    return f"From: a@example.org\r\nSubject: {tag}\r\nMessage-ID: <{tag}@example.org>\r\n\r\n{tag}\r\n".encode()


async def test_implicit_tls_with_a_private_ca(settings: IntakeEmailSettings, secure_dovecot: Dovecot,
                                              mailbox_user: str, bus_reader: BusReader) -> None:
    await append(secure_dovecot, mailbox_user, [mail("implicit-tls")])
    box = ImapMailbox(**secure_dovecot.mailbox_config(mailbox_user, port=secure_dovecot.imaps_port, tls="implicit",
                                                      tls_ca_file=str(secure_dovecot.root / "cert.pem")))
    async with service(configured(settings, box)):
        [event] = await bus_reader.contacts(1)
    assert event.contact.body == "implicit-tls"
    assert login_lines(secure_dovecot, mailbox_user, tls=True)


async def test_starttls_upgrades_before_login(settings: IntakeEmailSettings, secure_dovecot: Dovecot,
                                              mailbox_user: str, bus_reader: BusReader) -> None:
    await append(secure_dovecot, mailbox_user, [mail("starttls")])
    box = ImapMailbox(**secure_dovecot.mailbox_config(mailbox_user, tls="starttls",
                                                      tls_ca_file=str(secure_dovecot.root / "cert.pem")))
    async with service(configured(settings, box)):
        [event] = await bus_reader.contacts(1)
    assert event.contact.body == "starttls"
    # append() logs in on the plain port without TLS; the service's login was upgraded first.
    assert login_lines(secure_dovecot, mailbox_user, tls=True)


async def test_starttls_is_never_skipped_when_the_server_lacks_it(
        settings: IntakeEmailSettings, dovecot: Dovecot, mailbox_user: str, bus_reader: BusReader) -> None:
    await append(dovecot, mailbox_user, [mail("no-starttls")])  # the plain test Dovecot has ssl = no
    box = ImapMailbox(**dovecot.mailbox_config(mailbox_user, tls="starttls"))
    before = len(login_lines(dovecot, mailbox_user))
    async with service(configured(settings, box)):
        assert await bus_reader.contacts(1, timeout=3) == []
    assert len(login_lines(dovecot, mailbox_user)) == before  # no clear-text login happened


async def test_an_untrusted_certificate_is_refused(settings: IntakeEmailSettings, secure_dovecot: Dovecot,
                                                   mailbox_user: str, bus_reader: BusReader) -> None:
    await append(secure_dovecot, mailbox_user, [mail("untrusted")])
    box = ImapMailbox(**secure_dovecot.mailbox_config(mailbox_user, port=secure_dovecot.imaps_port, tls="implicit"))
    async with service(configured(settings, box)):
        assert await bus_reader.contacts(1, timeout=3) == []
    assert login_lines(secure_dovecot, mailbox_user, tls=True) == []


async def test_xoauth2_with_a_refresh_token(settings: IntakeEmailSettings, secure_dovecot: Dovecot,
                                            oauth_provider: OAuthProvider, mailbox_user: str,
                                            bus_reader: BusReader) -> None:
    await append(secure_dovecot, mailbox_user, [mail("xoauth2")])
    box = ImapMailbox(name=mailbox_user, host="127.0.0.1", port=secure_dovecot.port, tls="starttls",
                      tls_ca_file=secure_dovecot.root / "cert.pem", username=mailbox_user, auth="xoauth2",
                      oauth2_token_url=oauth_provider.url("/token"), oauth2_client_id=mailbox_user,
                      oauth2_client_secret="s3cret", oauth2_refresh_token=oauth_provider.refresh_token)
    requests_before = oauth_provider.token_requests
    async with service(configured(settings, box)):
        [event] = await bus_reader.contacts(1)
    assert event.contact.body == "xoauth2"
    assert oauth_provider.token_requests == requests_before + 1  # one login, one token
    issued_now = [t for t, user in oauth_provider.issued.items() if user == mailbox_user]
    assert issued_now and issued_now[0] in oauth_provider.introspected  # Dovecot checked the token we fetched
    assert any("method=XOAUTH2" in line for line in login_lines(secure_dovecot, mailbox_user))


async def test_a_refused_token_is_retried_without_hanging(settings: IntakeEmailSettings, secure_dovecot: Dovecot,
                                                          oauth_provider: OAuthProvider, mailbox_user: str,
                                                          bus_reader: BusReader) -> None:
    await append(secure_dovecot, mailbox_user, [mail("refused")])
    token = f"revoked-{mailbox_user}"
    box = ImapMailbox(name=mailbox_user, host="127.0.0.1", port=secure_dovecot.imaps_port, tls="implicit",
                      tls_ca_file=secure_dovecot.root / "cert.pem", username=mailbox_user, auth="xoauth2",
                      oauth2_token=token)
    started = time.monotonic()
    async with service(configured(settings, box)):
        while oauth_provider.introspected.count(token) < 2 and time.monotonic() - started < 15:  # noqa: ASYNC110
            await asyncio.sleep(0.1)  # Dovecot's calls arrive in another thread: polled, not awaited
        assert await bus_reader.contacts(1, timeout=0.5) == []
    # Two refused logins within the first backoff steps: a refused XOAUTH2 does not wait out a 30 s timeout.
    assert oauth_provider.introspected.count(token) >= 2, time.monotonic() - started
    assert time.monotonic() - started < 15
    assert not any(re.search(r"method=XOAUTH2", line) for line in login_lines(secure_dovecot, mailbox_user))


async def test_access_tokens_are_kept_until_near_expiry_renewed_when_refused_and_rotated() -> None:
    provider = OAuthProvider(rotate=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    provider.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    token_endpoints = HttpClient(timeout_s=30.0)
    await token_endpoints.open()
    try:
        box = ImapMailbox(name="m", host="127.0.0.1", username="u", auth="xoauth2",
                          oauth2_token_url=provider.url("/token"), oauth2_client_id="u",
                          oauth2_refresh_token="rt-good")
        tokens = AccessTokens(box, token_endpoints)
        first = await tokens.get()
        assert await tokens.get() == first and provider.token_requests == 1  # kept while valid
        tokens.forget()  # the server refused it
        second = await tokens.get()
        assert second != first and provider.refresh_token == "rt-2"  # the rotated refresh token was used
        provider.expires_in = 30  # shorter than the renewal margin: renewed before every login
        tokens.forget()
        await tokens.get()
        await tokens.get()
        assert provider.token_requests == 4
        provider.refresh_token = "rt-revoked"
        tokens.forget()
        with pytest.raises(TokenError, match="answered 400"):
            await tokens.get()
    finally:
        await token_endpoints.close()
        server.shutdown()
