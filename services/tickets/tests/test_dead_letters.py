"""Dead letters kept by tickets from the real dead-letter queue, on SQLite and PostgreSQL: listed with a safe
preview, replayed after a fix, discarded with an audit line, admin-only, counted by a gauge."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aio_pika
import httpx
import pytest

from priyom_contracts import (
    Contact,
    ContactAssigned,
    ContactReceived,
    DeliveryReported,
    DeliveryStatus,
    Sender,
    Topology,
    binding,
    utcnow,
)
from priyom_kit import ServiceParts
from priyom_kit.testing import bus_tap
from priyom_testing.apps import started
from priyom_tickets import tables
from priyom_tickets.app import build, create_app
from priyom_tickets.dead_letter_facts import read_facts
from priyom_tickets.settings import TicketsSettings

from .conftest import MakeRouted, Tickets, authenticate

ADMIN = {"Authorization": "Bearer admin-token"}
AGENT = {"Authorization": "Bearer agent-token"}
SUPERVISOR = {"Authorization": "Bearer supervisor-token"}


@dataclass
class Desk:
    client: httpx.AsyncClient
    parts: ServiceParts
    tickets: Tickets
    prefix: str

    async def letters(self, expected: int, timeout: float = 20, **params: str) -> list[dict]:
        """The listed letters once ``expected`` of them are there (they arrive through the queue)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            response = await self.client.get("/api/v1/dead-letters", params=params, headers=ADMIN)
            assert response.status_code == 200, response.text
            page = response.json()
            if page["total"] >= expected:
                assert page["total"] == expected, page
                return page["items"]
            assert asyncio.get_running_loop().time() < deadline, f"{page['total']} of {expected} dead letters"
            await asyncio.sleep(0.1)

    async def gauge(self, expected: float, timeout: float = 10) -> None:
        """The gauge reaches ``expected``: at once for this process's own changes, within the refresh period
        (0.2 s here) for those of the other process."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            metrics = (await self.client.get("/metrics")).text
            [line] = [line for line in metrics.splitlines() if line.startswith("priyom_dead_letters_waiting ")]
            if float(line.split()[1]) == expected:
                return
            assert asyncio.get_running_loop().time() < deadline, line
            await asyncio.sleep(0.05)


@pytest.fixture
async def desk(tickets: Tickets, migrated_url: str, amqp_url: str, tmp_path) -> AsyncIterator[Desk]:
    """A second tickets process on the same database and bus that gives up after one attempt, so a failing
    message is a dead letter at once (both processes consume; either may keep it)."""
    settings = TicketsSettings(TICKETS_DATABASE_URL=migrated_url, PRIYOM_BUS_PREFIX=tickets.prefix,
                               AMQP_URL=amqp_url, PRIYOM_BLOB_DIR=str(tmp_path / "blobs"), PRIYOM_MAX_ATTEMPTS=1,
                               scheduler_interval_s=0.2)
    parts = build(settings, authenticator=authenticate)
    app = create_app(parts)
    async with started(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                       base_url="http://tickets.test") as client:
        yield Desk(client, parts, tickets, tickets.prefix)


def received(text: str, *, channel: str = "web") -> ContactReceived:
    contact_id = uuid.uuid4()
    return ContactReceived(
        correlation_id=contact_id, channel=channel, idempotency_key=f"form-{contact_id}",
        contact=Contact(contact_id=contact_id, received_at=utcnow(), subject="Счёт", body=text,
                        sender=Sender(name="Ольга Кузнецова", email="olga.k@example.ru")),
    )


def assigned(contact_id: uuid.UUID, assignee: str) -> ContactAssigned:
    return ContactAssigned(correlation_id=contact_id, channel="web", idempotency_key=f"{contact_id}:{assignee}",
                           contact_id=contact_id, team="service", assignee=assignee, reason="freed up")


def stray_report() -> DeliveryReported:
    return DeliveryReported(correlation_id=uuid.uuid4(), channel="email", idempotency_key=f"{uuid.uuid4()}:failed",
                            ticket_number="2026-000001", reply_id=uuid.uuid4(), status=DeliveryStatus.FAILED)


async def test_a_message_a_consumer_gave_up_on_is_listed_with_where_when_and_why(desk: Desk) -> None:
    await desk.parts.bus.publish(stray_report())
    [letter] = await desk.letters(1)
    topology = Topology(desk.prefix)
    assert letter["state"] == "waiting"
    assert (letter["source"], letter["service"], letter["channel"]) == (
        topology.queue("tickets.deliveries").name, "tickets", "email")
    assert (letter["routing_key"], letter["message_type"], letter["error_kind"]) == (
        "reply.reported.v1.email", "reply.reported.v1", "permanent")
    assert "unknown reply" in letter["reason"]
    assert letter["replayable"] is True and letter["not_replayable_reason"] is None
    assert letter["failed_at"] and letter["kept_at"]
    one = await desk.client.get(f"/api/v1/dead-letters/{letter['id']}", headers=ADMIN)
    assert one.json() == letter
    assert (await desk.client.get("/api/v1/dead-letters/999999", headers=ADMIN)).status_code == 404


async def test_the_preview_and_the_reason_name_nobody(desk: Desk) -> None:
    event = received("Счёт для olga.k@example.ru, телефон 8 (916) 123-45-67, оплатим " + "сегодня " * 50)
    await desk.parts.bus.dead_letter(event.model_dump_json().encode(), "no route for olga.k@example.ru",
                                     "web", routing_key=event.routing_key)
    [letter] = await desk.letters(1)
    assert letter["preview"].startswith("Счёт — Счёт для o***@example.ru, телефон ***4567")
    assert len(letter["preview"]) == 160 and letter["preview"].endswith("…")
    assert letter["reason"] == "no route for o***@example.ru"
    listed = str(letter)
    assert "olga.k@" not in listed and "123-45-67" not in listed and "Кузнецова" not in listed


async def test_replay_many_after_the_fix_reaches_the_tickets(desk: Desk, make_routed: MakeRouted) -> None:
    """Assignments that came before their tickets were given up on; once the tickets exist (the fix),
    replaying both assigns both."""
    contacts = [uuid.uuid4(), uuid.uuid4()]
    for contact_id, agent in zip(contacts, ("Иванова", "Сидоров"), strict=True):
        await desk.parts.bus.publish(assigned(contact_id, agent))
    letters = await desk.letters(2)
    assert {letter["error_kind"] for letter in letters} == {"attempts-exhausted"}
    numbers = [(await desk.tickets.register(make_routed(contact_id=c))).number for c in contacts]

    replay = await desk.client.post("/api/v1/dead-letters/replay", headers=ADMIN,
                                    json={"ids": [letter["id"] for letter in letters], "note": "tickets exist now"})
    assert replay.status_code == 200, replay.text
    assert sorted(r["outcome"] for r in replay.json()["results"]) == ["replayed", "replayed"]

    async def assignees() -> list[str | None]:
        return [(await desk.client.get(f"/api/v1/tickets/{n}", headers=ADMIN)).json()["assignee"] for n in numbers]

    deadline = asyncio.get_running_loop().time() + 20
    while await assignees() != ["Иванова", "Сидоров"]:
        assert asyncio.get_running_loop().time() < deadline, await assignees()
        await asyncio.sleep(0.1)
    replayed = await desk.letters(2, state="replayed")
    assert {(r["handled_by"], r["handled_note"]) for r in replayed} == {("admin", "tickets exist now")}
    assert await desk.letters(0) == []
    again = await desk.client.post(f"/api/v1/dead-letters/{letters[0]['id']}/replay", headers=ADMIN)
    assert again.status_code == 409 and "already replayed by admin" in again.json()["detail"]


async def test_what_an_intake_could_not_read_is_not_replayable_and_says_why(desk: Desk, amqp_url: str) -> None:
    await desk.parts.bus.dead_letter(b"Subject: bomb\r\n\r\n" + b"x" * 100, "too many MIME parts", "imap:support",
                                     routing_key="contact.received.v1.email", content_type="message/rfc822")
    [letter] = await desk.letters(1)
    assert letter["replayable"] is False and "imap:support" in letter["not_replayable_reason"]
    assert letter["preview"] == "mail: bomb"
    download = await desk.client.get(f"/api/v1/dead-letters/{letter['id']}/body", headers=ADMIN)
    assert download.content == b"Subject: bomb\r\n\r\n" + b"x" * 100
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"] == f'attachment; filename="dead-letter-{letter["id"]}.eml"'
    assert (await desk.client.get(f"/api/v1/dead-letters/{letter['id']}/body", headers=AGENT)).status_code == 403
    assert (await desk.client.get("/api/v1/dead-letters/999999/body", headers=ADMIN)).status_code == 404
    refused = await desk.client.post(f"/api/v1/dead-letters/{letter['id']}/replay", headers=ADMIN)
    assert refused.status_code == 409 and "not a valid contact.received.v1" in refused.json()["detail"]
    assert (await desk.letters(1))[0]["state"] == "waiting"

    event = received("Перезвоните")
    await desk.parts.bus.dead_letter(event.model_dump_json().encode(), "broker was away", "web",
                                     routing_key=event.routing_key)
    [valid] = [item for item in await desk.letters(2) if item["replayable"]]
    async with bus_tap(amqp_url, desk.prefix, binding(ContactReceived)) as tap:
        done = await desk.client.post(f"/api/v1/dead-letters/{valid['id']}/replay", headers=ADMIN)
        assert done.status_code == 200, done.text
        message = await tap.next()
    assert ContactReceived.model_validate_json(message.body) == event
    assert message.routing_key == "contact.received.v1.web" and message.message_id == str(event.message_id)
    assert message.headers["x-idempotency-key"] == event.idempotency_key


async def test_discard_needs_a_reason_and_leaves_an_audit_line(desk: Desk) -> None:
    for _ in range(3):
        await desk.parts.bus.publish(stray_report())
    first, second, third = await desk.letters(3)
    await desk.gauge(3)

    no_reason = await desk.client.post(f"/api/v1/dead-letters/{first['id']}/discard", headers=ADMIN, json={})
    assert no_reason.status_code == 422
    one = await desk.client.post(f"/api/v1/dead-letters/{first['id']}/discard", headers=ADMIN,
                                 json={"reason": "test report from the relay, nothing was sent"})
    assert one.status_code == 200, one.text
    many = await desk.client.post("/api/v1/dead-letters/discard", headers=ADMIN,
                                  json={"ids": [first["id"], second["id"], 999999], "reason": "old relay noise"})
    assert [r["outcome"] for r in many.json()["results"]] == ["not_waiting", "discarded", "not_found"]

    [waiting] = await desk.letters(1)
    assert waiting["id"] == third["id"]
    discarded = {d["id"]: d for d in await desk.letters(2, state="discarded")}
    assert discarded[first["id"]]["handled_by"] == "admin"
    assert discarded[first["id"]]["handled_note"] == "test report from the relay, nothing was sent"
    assert discarded[second["id"]]["handled_note"] == "old relay noise"
    assert all(d["handled_at"] for d in discarded.values())
    assert len(await desk.letters(3, state="all")) == 3
    await desk.gauge(1)
    again = await desk.client.post(f"/api/v1/dead-letters/{first['id']}/discard", headers=ADMIN,
                                   json={"reason": "twice"})
    assert again.status_code == 409


async def test_filters_and_pages(desk: Desk) -> None:
    await desk.parts.bus.publish(stray_report())
    event = received("Тест")
    await desk.parts.bus.dead_letter(event.model_dump_json().encode(), "x", "smtp", routing_key=event.routing_key)
    await desk.letters(2)
    [web] = await desk.letters(1, channel="web")
    assert web["source"] == "smtp"
    [email] = await desk.letters(1, source=Topology(desk.prefix).queue("tickets.deliveries").name)
    assert email["channel"] == "email"
    assert len(await desk.letters(2, service="tickets")) == 2  # this test's bus kept the smtp one too
    assert await desk.letters(0, service="identity") == []
    page = await desk.client.get("/api/v1/dead-letters", params={"limit": 1, "offset": 1}, headers=ADMIN)
    assert page.json()["total"] == 2 and len(page.json()["items"]) == 1


async def test_only_admins_see_and_act_on_dead_letters(desk: Desk) -> None:
    await desk.parts.bus.publish(stray_report())
    [letter] = await desk.letters(1)
    calls = [("GET", "/api/v1/dead-letters", None), ("GET", f"/api/v1/dead-letters/{letter['id']}", None),
             ("GET", f"/api/v1/dead-letters/{letter['id']}/body", None),
             ("POST", "/api/v1/dead-letters/replay", {"ids": [letter["id"]]}),
             ("POST", f"/api/v1/dead-letters/{letter['id']}/replay", None),
             ("POST", "/api/v1/dead-letters/discard", {"ids": [letter["id"]], "reason": "nope"}),
             ("POST", f"/api/v1/dead-letters/{letter['id']}/discard", {"reason": "nope"})]
    for method, path, body in calls:
        assert (await desk.client.request(method, path, json=body)).status_code == 401, path
        for headers in (AGENT, SUPERVISOR):
            assert (await desk.client.request(method, path, json=body, headers=headers)).status_code == 403, path
    assert (await desk.letters(1))[0]["state"] == "waiting"


async def test_the_gauge_counts_what_waits(desk: Desk) -> None:
    await desk.gauge(0, timeout=0)
    await desk.parts.bus.publish(stray_report())
    await desk.parts.bus.publish(stray_report())
    [first, _] = await desk.letters(2)
    await desk.gauge(2)
    await desk.client.post(f"/api/v1/dead-letters/{first['id']}/discard", headers=ADMIN, json={"reason": "noise"})
    await desk.gauge(1, timeout=0)


async def test_a_dead_letter_delivered_twice_is_kept_once(desk: Desk) -> None:
    body = received("Дважды").model_dump_json().encode()
    headers = {"x-error": "boom", "x-original-queue": "smtp", "x-failed-at": utcnow().isoformat()}
    facts = read_facts(body, headers, routing_key="contact.received.v1.web", message_type=None, message_id=None,
                       correlation_id=None, content_type="application/json", arrived_at=utcnow())
    desk_parts = desk.client._transport.app.state.dead_letters  # type: ignore[attr-defined]
    assert await desk_parts.keep(facts, body) is True
    assert await desk_parts.keep(facts, body) is False
    assert len(await desk.letters(1)) == 1


async def test_a_letter_with_what_a_database_refuses_is_still_kept(desk: Desk) -> None:
    """NUL characters, over-long names and NaN would make PostgreSQL refuse the row, and a letter that
    cannot be stored is held and retried for ever: they are cleaned on the way in."""
    body = b"text with a NUL \x00 inside, " + b"and more " * 10
    headers = {"x-error": "bad\x00reason", "x-error-kind": "k" * 100, "x-original-queue": "q\x00" * 200,
               "x-failed-by": "s" * 100, "x-attempts": True, "x-odd": float("nan"), "x-bytes": b"\x00raw"}
    facts = read_facts(body, headers, routing_key="r" * 300, message_type="t" * 300, message_id="m" * 300,
                       correlation_id=None, content_type="text/plain", arrived_at=utcnow())
    desk_parts = desk.client._transport.app.state.dead_letters  # type: ignore[attr-defined]
    assert await desk_parts.keep(facts, body) is True
    [letter] = await desk.letters(1)
    assert letter["reason"] == "badreason" and letter["attempts"] is None
    assert "\x00" not in letter["preview"] and letter["preview"].startswith("text with a NUL inside")
    assert (len(letter["source"]), len(letter["service"]), len(letter["message_type"])) == (200, 64, 64)


async def test_the_console_view_is_served_with_the_consoles_protections(desk: Desk) -> None:
    """The page holds no data (that comes from the admin-only API), runs only its own script under the
    console's Content-Security-Policy, and puts API data into the page as text only."""
    page = await desk.client.get("/console/dead-letters")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<script src="/console/dead_letters.js" defer></script>' in page.text
    script = await desk.client.get("/console/dead_letters.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "innerHTML" not in script.text and "/api/v1/dead-letters" in script.text
    console = await desk.client.get("/console")
    assert 'href="/console/dead-letters"' in console.text  # the console links it (shown to admins only)


async def test_while_the_database_is_away_the_letter_is_held_then_kept(
        cleanup_bus: str, amqp_url: str, tmp_path) -> None:
    """A database without the table (not migrated yet) refuses the row: the letter stays unacknowledged in
    the keeper's hands, neither lost nor requeued in a loop, and is stored once the table is there."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'late.db'}"
    settings = TicketsSettings(TICKETS_DATABASE_URL=url, PRIYOM_BUS_PREFIX=cleanup_bus, AMQP_URL=amqp_url,
                               PRIYOM_BLOB_DIR=str(tmp_path / "blobs"))
    parts = build(settings, authenticator=authenticate)
    app = create_app(parts)
    async with started(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                       base_url="http://tickets.test") as client:
        await parts.bus.dead_letter(b"Subject: held\r\n\r\n", "parse limit", "smtp",
                                    routing_key="contact.received.v1.email", content_type="message/rfc822")
        connection = await aio_pika.connect(amqp_url)
        async with connection:
            channel = await connection.channel()
            await asyncio.sleep(1.0)
            queue = await channel.declare_queue(Topology(cleanup_bus).dead_letter_queue, passive=True)
            assert queue.declaration_result.message_count == 0  # taken, not back in the queue ...
            assert queue.declaration_result.consumer_count == 1
            await asyncio.to_thread(tables.migrate_database, url)  # ... and stored once it can be
            deadline = asyncio.get_running_loop().time() + 20
            while not (page := (await client.get("/api/v1/dead-letters", headers=ADMIN)).json())["total"]:
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.1)
    assert [letter["preview"] for letter in page["items"]] == ["mail: held"]
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        queue = await (await connection.channel()).declare_queue(Topology(cleanup_bus).dead_letter_queue,
                                                                 passive=True)
        assert queue.declaration_result.message_count == 0  # acknowledged after the commit: not handed back
