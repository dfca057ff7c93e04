"""The customer's account on the started portal, on SQLite and PostgreSQL and the real broker: a code goes only
to a verified identifier (read here from the queue intake-email delivers from), codes are hashed and spent after
a few wrong entries, sessions end (expiry, sign-out), another customer's request is a 404, and each act is the
customer's message on the bus."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import aio_pika
import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select, update

from priyom_contracts import (
    ClientCard,
    ClientErased,
    ContactReceived,
    Erasure,
    PersonErased,
    SignInCode,
    TicketStatus,
    Topology,
    identifier_digest,
    utcnow,
)
from priyom_kit import HttpClient, ServiceParts
from priyom_portal import account_erasure
from priyom_portal.account_parts import COOKIE
from priyom_portal.app import create_app
from priyom_portal.peers import Cards, Requests
from priyom_portal.settings import PortalSettings
from priyom_portal.sign_in import account_of
from priyom_portal.tables import portal_sessions, portal_sign_in_codes
from priyom_testing.apps import started

from .account_peers import Directory
from .conftest import portal_parts

SECRET = "session-secret-for-the-portal-tests-0123456789"


@dataclass
class Portal:
    http: httpx.AsyncClient
    parts: ServiceParts
    directory: Directory
    channel: aio_pika.abc.AbstractChannel
    topology: Topology

    async def next_message(self, queue: str, timeout: float = 10) -> aio_pika.abc.AbstractIncomingMessage | None:
        """The next message on one of the stack's queues (None after ``timeout``)."""
        declared = await self.channel.get_queue(self.topology.queue(queue).name)
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            message = await declared.get(no_ack=True, fail=False)
            if message is not None:
                return message
            await asyncio.sleep(0.05)
        return None

    async def ask_code(self, identifier: str) -> str:
        """Ask for a code; the attempt id of the code page it leads to."""
        answer = await self.http.post("/account/sign-in", data={"identifier": identifier, "lang": "ru"})
        assert answer.status_code == 303, answer.text
        found = re.search(r"attempt=([0-9a-f-]{36})", answer.headers["location"])
        assert found, answer.headers["location"]
        return found[1]

    async def delivered_code(self) -> SignInCode:
        message = await self.next_message("intake-email.sign-in")
        assert message is not None, "no sign-in code was published"
        return SignInCode.model_validate_json(message.body)

    async def count(self, table) -> int:  # noqa: ANN001 - a Table
        async with self.parts.state["portal"].database.sessions() as session:
            return (await session.execute(select(func.count()).select_from(table))).scalar_one()


def code_in(message: SignInCode) -> str:
    found = re.search(r"\b(\d{6})\b", message.body)
    assert found, "the message carries the code"
    return found[1]


@pytest.fixture
async def portal(settings: PortalSettings, amqp_url: str, tmp_path: Path) -> AsyncIterator[Portal]:
    directory = Directory()
    parts = portal_parts(settings.model_copy(update={"session_secret": SecretStr(SECRET), "cookie_secure": False,
                                                     "blob_dir": tmp_path / "blobs", "max_file_bytes": 4096}))
    peer = HttpClient(base_url="http://peers.test", transport=httpx.ASGITransport(app=directory.app()))
    account = parts.state["account"]
    account.cards, account.requests = Cards(peer), Requests(peer)
    await peer.open()
    connection = await aio_pika.connect(amqp_url)
    app = create_app(parts)
    try:
        async with started(app), connection, httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://portal.test") as http:
            yield Portal(http, parts, directory, await connection.channel(), Topology(settings.bus_prefix))
    finally:
        await peer.close()


async def sign_in(portal: Portal, email: str) -> None:
    attempt = await portal.ask_code(email)
    code = code_in(await portal.delivered_code())
    entered = await portal.http.post("/account/code", data={"attempt": attempt, "code": code})
    assert entered.status_code == 303, entered.text
    assert entered.headers["location"].startswith("/account")


async def test_a_code_goes_only_to_a_verified_identifier(portal: Portal) -> None:
    portal.directory.card("claimed@example.ru", verified=False)
    portal.directory.card("anna@example.ru")

    # The same answer as for a customer (the form tells nobody who is one), but nothing is sent or kept.
    for unsent in ("claimed@example.ru", "nobody@example.ru"):
        attempt = await portal.ask_code(unsent)
        assert await portal.next_message("intake-email.sign-in", timeout=1) is None
        page = await portal.http.get("/account/code", params={"attempt": attempt})
        assert page.status_code == 200 and 'name="code"' in page.text
        refused = await portal.http.post("/account/code", data={"attempt": attempt, "code": "123456"})
        assert refused.status_code == 400 and COOKIE not in refused.headers.get("set-cookie", "")
    assert await portal.count(portal_sign_in_codes) == 0

    await portal.ask_code("Anna@Example.ru")
    sent = await portal.delivered_code()
    assert (sent.channel, str(sent.recipient.email)) == ("email", "anna@example.ru")
    assert sent.expires_at > utcnow() + timedelta(minutes=9)
    code = code_in(sent)
    async with portal.parts.state["portal"].database.sessions() as session:
        stored = (await session.execute(select(portal_sign_in_codes.c.code_hash))).scalars().all()
    assert len(stored) == 1 and code not in stored[0] and len(stored[0]) == 64  # a keyed hash, not the code


async def test_a_code_to_a_verified_telegram_id_goes_to_the_bot(portal: Portal) -> None:
    portal.directory.card("telegram:700123456")
    attempt = await portal.ask_code("700123456")
    message = await portal.next_message("intake-messenger.sign-in")
    assert message is not None, "the code goes to intake-messenger's bot"
    sent = SignInCode.model_validate_json(message.body)
    assert sent.channel == "telegram" and sent.recipient.messenger is not None
    assert (sent.recipient.messenger.channel, sent.recipient.messenger.user_id) == ("telegram", "700123456")
    entered = await portal.http.post("/account/code", data={"attempt": attempt, "code": code_in(sent)})
    assert entered.status_code == 303 and (await portal.http.get("/account")).status_code == 200


async def test_wrong_codes_spend_the_code(portal: Portal) -> None:
    portal.directory.card("anna@example.ru")
    attempt = await portal.ask_code("anna@example.ru")
    code = code_in(await portal.delivered_code())
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):  # PORTAL_CODE_ATTEMPTS
        answer = await portal.http.post("/account/code", data={"attempt": attempt, "code": wrong})
        assert answer.status_code == 400
    spent = await portal.http.post("/account/code", data={"attempt": attempt, "code": code})
    assert spent.status_code == 400, "the right code after five wrong ones no longer opens anything"
    assert await portal.count(portal_sessions) == 0


async def test_codes_are_rate_limited_per_identifier(portal: Portal) -> None:
    portal.directory.card("anna@example.ru")
    for _ in range(3):  # PORTAL_SIGN_IN_RATE_PER_IDENTIFIER: 3 in 10 minutes
        await portal.ask_code("anna@example.ru")
    limited = await portal.http.post("/account/sign-in", data={"identifier": "anna@example.ru"})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0


async def test_sessions_expire_and_end_at_sign_out(portal: Portal) -> None:
    portal.directory.card("anna@example.ru")
    await sign_in(portal, "anna@example.ru")
    assert (await portal.http.get("/account")).status_code == 200
    async with portal.parts.state["portal"].database.sessions() as session, session.begin():
        await session.execute(update(portal_sessions).values(expires_at=utcnow() - timedelta(seconds=1)))
    expired = await portal.http.get("/account")
    assert expired.status_code == 303 and expired.headers["location"].startswith("/account/sign-in")

    await sign_in(portal, "anna@example.ru")
    assert (await portal.http.get("/account")).status_code == 200
    token = portal.http.cookies[COOKIE]
    out = await portal.http.post("/account/sign-out")
    assert out.status_code == 303 and COOKIE not in portal.http.cookies
    # The old cookie sent again opens nothing: the session itself is over, not only the browser's copy.
    portal.http.cookies.set(COOKIE, token, domain="portal.test", path="/")
    assert portal.http.cookies[COOKIE] == token
    again = await portal.http.get("/account")
    assert again.status_code == 303
    async with portal.parts.state["portal"].database.sessions() as session:
        ended = (await session.execute(select(func.count()).select_from(portal_sessions)
                                       .where(portal_sessions.c.ended_at.is_not(None)))).scalar_one()
    assert ended == 1


async def test_the_cookie_is_http_only_and_same_site(portal: Portal) -> None:
    portal.directory.card("anna@example.ru")
    attempt = await portal.ask_code("anna@example.ru")
    code = code_in(await portal.delivered_code())
    entered = await portal.http.post("/account/code", data={"attempt": attempt, "code": code})
    cookie = entered.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and re.search(r"path=/(;|$)", cookie)
    async with portal.parts.state["portal"].database.sessions() as session:
        kept = (await session.execute(select(portal_sessions.c.token_hash))).scalars().one()
    assert kept not in entered.headers["set-cookie"], "the database keeps the token's hash only"


async def test_my_requests_and_another_customers_request(portal: Portal) -> None:
    anna = portal.directory.card("anna@example.ru")
    boris = portal.directory.card("boris@example.ru")
    portal.directory.ticket("2026-000101", anna, status=TicketStatus.RESOLVED)
    portal.directory.ticket("2026-000202", boris)
    await sign_in(portal, "anna@example.ru")

    listing = await portal.http.get("/account")
    assert "2026-000101" in listing.text and "2026-000202" not in listing.text
    assert listing.headers["cache-control"] == "no-store"
    mine = await portal.http.get("/account/requests/2026-000101")
    assert mine.status_code == 200 and "Проверьте бумагу в лотке." in mine.text
    assert (await portal.http.get("/account/requests/2026-000202")).status_code == 404
    posted = await portal.http.post("/account/requests/2026-000202/reply",
                                    data={"key": str(uuid.uuid4()), "text": "чужое"})
    assert posted.status_code == 404
    assert await portal.next_message("identity.contacts", timeout=1) is None, "nothing published for it"

    # A reply and the refusal of the proposed solution: each the customer's message naming the ticket.
    for act, form in (("reply", {"text": "Бумага есть, всё равно не печатает"}),
                      ("decline", {"reason": "после перезагрузки снова не печатает"})):
        sent = await portal.http.post(f"/account/requests/2026-000101/{act}", data={"key": str(uuid.uuid4()), **form})
        assert sent.status_code == 303, sent.text
        message = await portal.next_message("identity.contacts")
        assert message is not None
        event = ContactReceived.model_validate(json.loads(message.body))
        assert (event.channel, event.contact.thread.ticket_number) == ("portal", "2026-000101")
        assert str(event.contact.sender.email) == "anna@example.ru" and event.contact.sender_authenticated
    assert event.contact.body.startswith("Не решено: после перезагрузки")

    # A reply with a file: the file is in the blob store every service shares, the message names it.
    with_file = await portal.http.post(
        "/account/requests/2026-000101/reply", data={"key": str(uuid.uuid4()), "text": "Фото индикатора"},
        files={"files": ("indicator.txt", b"blinking orange", "text/plain")})
    assert with_file.status_code == 303, with_file.text
    message = await portal.next_message("identity.contacts")
    assert message is not None
    attached = ContactReceived.model_validate(json.loads(message.body)).contact.attachments
    assert [(a.filename, a.size) for a in attached] == [("indicator.txt", 15)]
    assert await portal.parts.state["account"].blobs.get(attached[0].blob_key) == b"blinking orange"
    too_large = await portal.http.post(
        "/account/requests/2026-000101/reply", data={"key": str(uuid.uuid4()), "text": "Большой файл"},
        files={"files": ("big.bin", b"x" * 5000, "application/octet-stream")})
    assert too_large.status_code == 413
    assert await portal.next_message("identity.contacts", timeout=1) is None
    # Rating an open request is refused before anything is published.
    refused = await portal.http.post("/account/requests/2026-000101/rate", data={"key": str(uuid.uuid4()),
                                                                                  "rating": "5"})
    assert refused.status_code == 409


async def test_a_representative_sees_the_organisation_and_a_colleague_only_their_own(portal: Portal) -> None:
    boss = portal.directory.card("boss@romashka.ru", kind="org", role="representative")
    clerk = portal.directory.card("clerk@romashka.ru", kind="org", role="consumer")
    boss_account, clerk_account = account_of(boss, date.today()), account_of(clerk, date.today())
    assert boss_account is not None and boss_account.person_filter is None
    assert clerk_account is not None and clerk_account.person_filter == clerk.persons[0].id
    await sign_in(portal, "clerk@romashka.ru")
    await portal.http.get("/account")
    assert portal.directory.asked[-1] == {"client_id": str(clerk.id), "person_id": str(clerk.persons[0].id)}


async def test_an_erasure_forgets_the_persons_sign_ins(portal: Portal) -> None:
    anna = portal.directory.card("anna@example.ru")
    clerk = portal.directory.card("clerk@romashka.ru", kind="org", role="consumer")
    await sign_in(portal, "anna@example.ru")
    await sign_in(portal, "clerk@romashka.ru")
    database = portal.parts.state["portal"].database

    def erasure(kind: type[Erasure], card: ClientCard, **fields: object) -> Erasure:
        return kind(correlation_id=uuid.uuid4(), channel="api", idempotency_key=str(uuid.uuid4()),
                    erasure_id=uuid.uuid4(), client_id=card.id, **fields)

    # The clerk, erased from the organisation's card by the identifier they were known by.
    counts = await account_erasure.redact(database.sessions, erasure(
        PersonErased, clerk, identifier_digests=[identifier_digest("clerk@romashka.ru")]))
    assert counts == {"portal.portal_sessions": 1, "portal.portal_sign_in_codes": 1}
    assert (await portal.http.get("/account")).status_code == 303, "the clerk's session (the last) is gone"
    # A private client's card is the person: everything of the card goes; a repeat finds nothing more.
    assert await account_erasure.redact(database.sessions, erasure(ClientErased, anna)) == counts
    assert await account_erasure.redact(database.sessions, erasure(ClientErased, anna)) == {
        "portal.portal_sessions": 0, "portal.portal_sign_in_codes": 0}
    assert (await portal.count(portal_sessions), await portal.count(portal_sign_in_codes)) == (0, 0)


async def test_the_pages_and_the_message_speak_english_when_asked(portal: Portal) -> None:
    portal.directory.card("anna@example.ru")
    page = await portal.http.get("/account/sign-in", params={"lang": "en"})
    assert page.status_code == 200 and "Sign in to your account" in page.text and 'lang="en"' in page.text
    asked = await portal.http.post("/account/sign-in", data={"identifier": "anna@example.ru", "lang": "en"})
    assert "lang=en" in asked.headers["location"]
    sent = await portal.delivered_code()
    assert sent.subject == "Your sign-in code" and "valid for 10 minutes" in sent.body
    attempt = re.search(r"attempt=([0-9a-f-]{36})", asked.headers["location"])[1]  # type: ignore[index]
    entered = await portal.http.post("/account/code", data={"attempt": attempt, "code": code_in(sent), "lang": "en"})
    assert (await portal.http.get(entered.headers["location"])).text.count("My requests") >= 1
