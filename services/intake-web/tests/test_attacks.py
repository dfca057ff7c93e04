"""The public form attacked as the security issue found it open (finding 3): each test is the attack, against
the real app, the real RabbitMQ and a real blob store. Settings per test come from ``@guarded(...)``."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import tracemalloc
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from priyom_intake_web.challenge import solve
from priyom_intake_web.settings import IntakeWebSettings
from priyom_kit.blobs import FileBlobStore

from .conftest import ContactsQueue

VALID = {"name": "Иван", "email": "ivan@example.ru", "message": "Не печатает чеки", "consent": True}
MiB = 1024 * 1024


@pytest.fixture
def guards() -> dict[str, Any]:
    """Settings a test changes from conftest's (there the guards let every submission in)."""
    return {}


@pytest.fixture
def settings(settings: IntakeWebSettings, guards: dict[str, Any]) -> IntakeWebSettings:
    return settings.model_copy(update=guards)


def guarded(**values: Any) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("guards", [values], ids=["guarded"])


def client_at(app: FastAPI, address: str) -> httpx.AsyncClient:
    """A client whose requests come from ``address`` (what ``request.client.host`` reads)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)),
                             base_url="http://web.test")


async def solved(client: httpx.AsyncClient) -> str:
    issued = (await client.get("/api/v1/challenge")).json()
    assert issued["kind"] == "pow"
    return solve(issued["token"], issued["difficulty"])


@guarded(rate_limit_per_ip="3/minute")
async def test_flood_from_one_address_gets_429_with_retry_after(app: FastAPI, contacts: ContactsQueue) -> None:
    async with client_at(app, "203.0.113.7") as flooder, client_at(app, "198.51.100.2") as other:
        answers = [await flooder.post("/api/v1/contacts", json={**VALID, "email": f"u{i}@example.ru"})
                   for i in range(5)]
        assert [a.status_code for a in answers] == [202, 202, 202, 429, 429]
        assert 1 <= int(answers[3].headers["retry-after"]) <= 60
        assert (await other.post("/api/v1/contacts", json=VALID)).status_code == 202  # others still get in
    for _ in range(4):
        await contacts.next()
    await contacts.assert_empty()


@guarded(rate_limit_per_identifier="2/hour")
async def test_flood_for_one_email_or_phone_from_many_addresses_gets_429(app: FastAPI,
                                                                       contacts: ContactsQueue) -> None:
    phones = ["+7 (912) 345-67-89", "79123456789", "+7 912 345 67 89"]  # one number, typed three ways
    answers = []
    for i, phone in enumerate(phones):
        async with client_at(app, f"203.0.113.{i + 1}") as client:
            answers.append(await client.post("/api/v1/contacts",
                                             json={**VALID, "email": None, "phone": phone}))
    assert [a.status_code for a in answers] == [202, 202, 429]
    assert int(answers[2].headers["retry-after"]) > 60  # the hour window, not a second
    async with client_at(app, "203.0.113.9") as client:
        email = [await client.post("/api/v1/contacts", json={**VALID, "email": e})
                 for e in ("Victim@Example.ru", "victim@example.ru", "VICTIM@example.RU")]
    assert [a.status_code for a in email] == [202, 202, 429]
    for _ in range(4):
        await contacts.next()
    await contacts.assert_empty()


async def test_bot_filling_the_honeypot_is_answered_202_and_nothing_is_published(
        client: httpx.AsyncClient, contacts: ContactsQueue, settings: IntakeWebSettings) -> None:
    response = await client.post("/api/v1/contacts", data={**VALID, "website": "http://cheap-pills.example"},
                                 files=[("attachments", ("spam.txt", b"buy now", "text/plain"))])

    assert response.status_code == 202
    assert uuid.UUID(response.json()["contact_id"])  # looks like any other answer
    await contacts.assert_empty()
    assert not [path for path in settings.blob_dir.rglob("*") if path.is_file()]
    metrics = (await client.get("/metrics")).text
    assert 'priyom_web_refused_total{reason="honeypot"} 1.0' in metrics


@guarded(challenge="pow", challenge_difficulty=8)
async def test_missing_wrong_forged_or_replayed_challenge_is_refused(client: httpx.AsyncClient,
                                                                    contacts: ContactsQueue) -> None:
    missing = await client.post("/api/v1/contacts", json=VALID)
    issued = (await client.get("/api/v1/challenge")).json()
    token, difficulty = issued["token"], issued["difficulty"]
    good = solve(token, difficulty)
    counter = int(good.rsplit(":", 1)[1])
    wrong = next(f"{token}:{n}" for n in range(counter + 1, counter + 10_000) if _zero_bits(f"{token}:{n}") < difficulty)
    expires, salt, _, signature = token.split(".")
    forged = solve(f"{expires}.{salt}.1.{signature}", 1)  # an easier difficulty, the old signature
    refused = [missing,
               await client.post("/api/v1/contacts", json={**VALID, "challenge": wrong}),
               await client.post("/api/v1/contacts", json={**VALID, "challenge": forged}),
               await client.post("/api/v1/contacts", json={**VALID, "challenge": "garbage"})]
    assert [r.status_code for r in refused] == [403, 403, 403, 403]
    assert "/api/v1/challenge" in missing.json()["detail"]

    assert (await client.post("/api/v1/contacts", json={**VALID, "challenge": good})).status_code == 202
    replay = await client.post("/api/v1/contacts", json={**VALID, "challenge": good})
    assert replay.status_code == 403  # a solution is used once
    form = await client.post("/api/v1/contacts", data={**VALID, "challenge": await solved(client)})
    assert form.status_code == 202  # a multipart form carries it as a field
    await contacts.next()
    await contacts.next()
    await contacts.assert_empty()


def _zero_bits(text: str) -> int:
    digest = int.from_bytes(hashlib.sha256(text.encode()).digest(), "big")
    return 256 - digest.bit_length()


@guarded(allowed_origins=["https://www.partner.example"])
async def test_post_from_another_websites_page_is_refused(client: httpx.AsyncClient,
                                                          contacts: ContactsQueue) -> None:
    def from_page(origin: str | None, **extra: str) -> dict[str, str]:
        return {**({"Origin": origin} if origin else {}), **extra}

    refused = [await client.post("/api/v1/contacts", json=VALID, headers=from_page("https://evil.example")),
               await client.post("/api/v1/contacts", json=VALID, headers=from_page("http://web.test.evil.example")),
               await client.post("/api/v1/contacts", json=VALID, headers=from_page("null")),
               await client.post("/api/v1/contacts", json=VALID,
                                 headers=from_page(None, **{"Sec-Fetch-Site": "cross-site"}))]
    assert [r.status_code for r in refused] == [403, 403, 403, 403]
    await contacts.assert_empty()

    allowed = [await client.post("/api/v1/contacts", json=VALID, headers=from_page("http://web.test")),
               await client.post("/api/v1/contacts", json=VALID,
                                 headers=from_page("https://www.partner.example")),
               await client.post("/api/v1/contacts", json=VALID)]  # curl, a server: no page involved
    assert [a.status_code for a in allowed] == [202, 202, 202]
    assert "access-control-allow-origin" not in allowed[0].headers
    assert allowed[1].headers["access-control-allow-origin"] == "https://www.partner.example"
    assert "access-control-allow-origin" not in refused[0].headers

    partner, evil = ({"Origin": o, "Access-Control-Request-Method": "POST"}
                     for o in ("https://www.partner.example", "https://evil.example"))
    preflight = await client.options("/api/v1/contacts", headers=partner)
    assert preflight.headers["access-control-allow-origin"] == "https://www.partner.example"
    assert "Idempotency-Key" in preflight.headers["access-control-allow-headers"]
    assert "access-control-allow-origin" not in (await client.options("/api/v1/contacts", headers=evil)).headers
    invalid = await client.post("/api/v1/contacts", json={}, headers=partner)
    assert invalid.status_code == 422  # the partner's page can read which fields are wrong
    assert invalid.headers["access-control-allow-origin"] == "https://www.partner.example"


def multipart_stream(size: int, boundary: str = "webform-boundary") -> tuple[AsyncIterator[bytes], int]:
    """A multipart body with one ``size``-byte file, produced 64 KiB at a time (never whole in memory)."""
    fields = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                     for k, v in {**VALID, "consent": "on"}.items()).encode()
    head = fields + (f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="big.bin"'
                     '\r\nContent-Type: application/octet-stream\r\n\r\n').encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    chunk = bytes(range(256)) * 256

    async def body() -> AsyncIterator[bytes]:
        yield head
        left = size
        while left:
            yield chunk[:min(left, len(chunk))]
            left -= min(left, len(chunk))
        yield tail

    return body(), len(head) + size + len(tail)


@guarded(max_request_bytes=26 * MiB, max_attachment_bytes=25 * MiB)
async def test_a_25_mb_upload_is_streamed_not_held_in_memory(client: httpx.AsyncClient, contacts: ContactsQueue,
                                                             settings: IntakeWebSettings) -> None:
    size = 25 * MiB
    body, length = multipart_stream(size)
    tracemalloc.start()
    try:
        response = await client.post("/api/v1/contacts", content=body, headers={
            "Content-Type": "multipart/form-data; boundary=webform-boundary", "Content-Length": str(length)})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert response.status_code == 202, response.text
    assert peak < 6 * MiB, f"the request allocated {peak / MiB:.1f} MiB at its peak"
    event, _ = await contacts.next()
    (attachment,) = event.contact.attachments
    assert attachment.size == size
    expected = hashlib.sha256()
    chunk = bytes(range(256)) * 256
    for _ in range(size // len(chunk)):
        expected.update(chunk)
    assert attachment.blob_key == expected.hexdigest()
    assert await FileBlobStore(settings.blob_dir).size(attachment.blob_key) == size


@guarded(max_concurrent_submissions=2)
async def test_submissions_past_the_concurrency_cap_get_503(client: httpx.AsyncClient,
                                                            contacts: ContactsQueue) -> None:
    release = asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:  # a slow client holding its request open
        yield b'{"email": "slow@example.ru", "consent": true, '
        await release.wait()
        yield b'"message": "finally"}'

    slow = [asyncio.create_task(client.post("/api/v1/contacts", content=slow_body(),
                                            headers={"Content-Type": "application/json"})) for _ in range(2)]
    await asyncio.sleep(0.3)
    third = await client.post("/api/v1/contacts", json=VALID)
    release.set()

    assert third.status_code == 503
    assert third.headers["retry-after"] == "1"
    assert [(await task).status_code for task in slow] == [202, 202]
    assert (await client.post("/api/v1/contacts", json=VALID)).status_code == 202  # the cap is released


@guarded(frame_ancestors=["https://www.partner.example"])
async def test_form_page_security_headers(client: httpx.AsyncClient) -> None:
    page = await client.get("/")

    policy = dict(part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";"))
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    assert policy["default-src"] == "'none'"
    assert policy["frame-ancestors"] == "https://www.partner.example"
    assert policy["connect-src"] == "'self' http://tickets.test"
    (script,) = re.findall(r"<script>(.*?)</script>", page.text, flags=re.DOTALL)
    assert f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'" == policy["script-src"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert 'style="' not in page.text  # inline style attributes would need unsafe-inline
    submitted = await client.post("/api/v1/contacts", json=VALID)
    assert submitted.headers["x-content-type-options"] == "nosniff"


async def test_frames_refused_by_default(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


@guarded(rate_limit_storage="redis://127.0.0.1:1/0")  # nothing listens on port 1
async def test_a_limiter_that_cannot_count_keeps_the_gate_shut(client: httpx.AsyncClient,
                                                               contacts: ContactsQueue) -> None:
    response = await client.post("/api/v1/contacts", json=VALID)

    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert (await client.get("/health")).json()["checks"]["rate_limits"] is False
    await contacts.assert_empty()


@guarded(kb_url="https://help.example/")
async def test_the_page_may_ask_only_the_configured_knowledge_base(client: httpx.AsyncClient) -> None:
    """With INTAKE_WEB_KB_URL the page suggests articles from there: its origin joins connect-src, no other."""
    page = await client.get("/")
    policy = dict(part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";"))
    assert policy["connect-src"] == "'self' http://tickets.test https://help.example"
    assert 'data-kb-url="https://help.example"' in page.text
