"""An erasure request reaches every copy: one person writes through every channel, is erased, and then
nothing the system keeps names them.

The person fills in the web form with an attachment, writes an e-mail with an attachment to the SMTP
endpoint, shares their number and writes in Telegram (the fake Bot API), and calls (the fake AMI server); an
agent answers in Telegram. The subject access export holds all of it. The router is down when the erasure is
asked for and catches up from its queue when it starts again. After ``POST /api/v1/persons/{id}/erase`` and
the report of every service, the export holds none of it, and every
row of every database, every file of the blob store and every message in every queue and stream of the run's
bus prefix are searched for the person's phone, e-mail, name and words: zero hits, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import os
import smtplib
import sqlite3
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import httpx
import pytest

from priyom_contracts import Topology
from priyom_kit.pytest_plugin import create_pg_database, delete_prefixed, drop_pg_database
from priyom_testing.ami_server import FakeAmiServer
from priyom_testing.calls import bridge
from priyom_testing.scripted_pbx import ScriptedPbx
from priyom_testing.smtp_sink import MailSink
from priyom_testing.stack import Stack, database_urls, stack_env
from priyom_testing.telegram_bot_api import FakeBotAPIThread

# Seven services of its own per backend, beside the shared stack: minutes on a busy machine.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(360)]

SERVICES = ("tickets", "identity", "intake-web", "intake-email", "intake-messenger", "router", "portal")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def erasure_stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                  mail_sink: MailSink) -> Iterator[tuple[Stack, FakeBotAPIThread, dict]]:
    """Every service on a private bus prefix, the messenger polling the fake Bot API."""
    backend = request.param
    workdir = tmp_path_factory.mktemp(f"erase-{backend}")
    prefix = f"e2eerase{uuid.uuid4().hex[:8]}."
    urls = database_urls(backend, workdir, lambda: asyncio.run(create_pg_database()))
    with FakeBotAPIThread() as bot:
        env = stack_env(os.environ, workdir=workdir, prefix=prefix,
                        database_urls=urls)
        env.update(TELEGRAM_BOT_TOKEN=bot.fake.token, TELEGRAM_API_BASE=bot.fake.base_url, TELEGRAM_MODE="polling",
                   INTAKE_MESSENGER_TELEGRAM_POLL_TIMEOUT_S="1", INTAKE_EMAIL_RELAY_PORT=str(mail_sink.port),
                   INTAKE_EMAIL_RELAY_STARTTLS="false")
        stack = Stack(env=env, workdir=workdir)
        try:
            stack.migrate()
            stack.start(SERVICES)
            yield stack, bot, urls
        finally:
            stack.stop()
            asyncio.run(delete_prefixed(env.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"), prefix))
            if backend == "postgresql":
                for url in urls.values():
                    asyncio.run(drop_pg_database(url))


async def eventually(check: Any, what: str, timeout: float = 60, seen: dict | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := await check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {timeout:g} s: {what} (seen: {seen})")
        await asyncio.sleep(0.3)
    return result


def telegram_message(user: dict[str, Any], message_id: int, **fields: Any) -> dict[str, Any]:
    chat = {"id": user["id"], "first_name": user["first_name"], "last_name": user["last_name"], "type": "private"}
    return {"message": {"message_id": message_id, "date": int(time.time()), "from": user, "chat": chat, **fields}}


def send_mail(port: int, sender: str, name: str, subject: str, text: str, attachment: bytes) -> None:
    mail = EmailMessage()
    mail["From"] = f"{name} <{sender}>"
    mail["To"] = "support@priyom.local"
    mail["Subject"] = subject
    mail["Message-ID"] = make_msgid(domain="mail.example.net")
    mail.set_content(text)
    mail.add_attachment(attachment, maintype="text", subtype="plain", filename="acts.txt")
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.send_message(mail)


# -- what the system keeps, as text ------------------------------------------------------------------------

def _as_text(value: Any) -> str:
    """A stored value as a reader would see it, JSON unescaped (``\\u0417`` is a letter too)."""
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    text = str(value)
    if isinstance(value, str) and text[:1] in "[{":
        try:
            return text + json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            return text
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return text


async def database_rows(url: str) -> dict[str, str]:
    """Every row of every table of one database: ``{"table": "rows as text"}``."""
    found: dict[str, list[str]] = {}
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.split("///", 1)[1])
        try:
            names = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for name in names:
                found[name] = [" ".join(_as_text(v) for v in row)
                               for row in connection.execute(f'SELECT * FROM "{name}"')]  # noqa: S608
        finally:
            connection.close()
    else:
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            names = [r["tablename"] for r in await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
            for name in names:
                found[name] = [" ".join(_as_text(v) for v in row.values())
                               for row in await connection.fetch(f'SELECT * FROM "{name}"')]  # noqa: S608
        finally:
            await connection.close()
    return {name: "\n".join(rows) for name, rows in found.items()}


def blob_files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_bytes().decode("utf-8", "replace")
            for p in root.rglob("*") if p.is_file()} if root.exists() else {}


async def bus_messages(amqp_url: str, topology: Topology) -> dict[str, str]:
    """Every message waiting in every queue of the run (left in place) and every message of the journal."""
    names = [n for spec in topology.queues.values() for n in (spec.name, spec.retry_name)]
    names += [topology.dead_letter_queue, topology.identity_lookup_queue]
    found: dict[str, str] = {}
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        for name in names:
            channel = await connection.channel()
            try:
                queue = await channel.declare_queue(name, passive=True)
            except aio_pika.exceptions.ChannelClosed:
                continue
            bodies = []
            while (message := await queue.get(no_ack=False, fail=False)) is not None:
                bodies.append(_as_text(message.body) + _as_text(message.headers))
            found[name] = "\n".join(bodies)
            await channel.close()  # unacknowledged: back in the queue as they were
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=100)
        journal = await channel.declare_queue(topology.journal_queue, passive=True)
        kept: list[str] = []
        got = asyncio.Event()

        async def keep(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            kept.append(_as_text(message.body) + _as_text(message.headers))
            got.set()
            await message.ack()

        await journal.consume(keep, arguments={"x-stream-offset": "first"})
        while True:
            got.clear()
            try:
                await asyncio.wait_for(got.wait(), 3)
            except TimeoutError:
                break
        found[topology.journal_queue] = "\n".join(kept)
        await channel.close()
    return found


async def everything_kept(urls: dict[str, str], stack: Stack, amqp_url: str) -> dict[str, str]:
    """Every database row, blob and bus message of the run, by where it is kept."""
    places: dict[str, str] = {}
    for service, url in urls.items():
        for table, text in (await database_rows(url)).items():
            places[f"{service}.{table}"] = text
    places.update({f"blob {k}": v for k, v in blob_files(stack.workdir / "blobs").items()})
    places.update({f"queue {k}": v for k, v in
                   (await bus_messages(amqp_url, Topology(stack.env["PRIYOM_BUS_PREFIX"]))).items()})
    return places


def hits(places: dict[str, str], needles: list[str]) -> list[str]:
    lowered = [n.casefold() for n in needles]
    return [f"{place}: {needle}" for place, text in places.items() for needle, low in zip(needles, lowered, strict=True)
            if low in text.casefold()]


# -- the test -------------------------------------------------------------------------------------------

async def test_an_erased_person_is_nowhere(erasure_stack: tuple[Stack, FakeBotAPIThread, dict],
                                           amqp_url: str) -> None:
    stack, bot, urls = erasure_stack
    tag = uuid.uuid4().hex[:8]
    digits = f"{uuid.uuid4().int % 10**7:07d}"
    phone = f"+7916{digits}"
    surname = f"Зарецкая{tag}"
    name = f"Ефросинья {surname}"
    email = f"efrosinya.{tag}@example.org"
    words = {channel: f"квитанция{channel}{tag}" for channel in ("web", "mail", "tg", "file")}
    user = {"id": 6_200_000_000 + uuid.uuid4().int % 10**8, "is_bot": False, "first_name": "Ефросинья",
            "last_name": surname, "language_code": "ru"}
    tickets, identity = stack.url("tickets"), stack.url("identity")
    needles = [phone, phone.lstrip("+"), phone[2:], email, surname, name, *words.values()]

    async with httpx.AsyncClient(timeout=20, headers=stack.admin_headers) as api:
        card = await api.post(f"{identity}/api/v1/clients", json={
            "name": name, "kind": "person", "persons": [{"full_name": name, "phones": [phone], "emails": [email]}]})
        assert card.status_code == 201, card.text
        client_id, person_id = card.json()["id"], card.json()["persons"][0]["id"]

        # The web form, with an attachment.
        form = await api.post(f"{stack.url('intake-web')}/api/v1/contacts", data={
            "name": name, "email": email, "phone": phone, "subject": f"Счёт {surname}",
            "message": f"Здравствуйте, это {name}, {words['web']}", "consent": "on"},
            files=[("attachments", ("scan.txt", f"паспорт {name} {words['file']}".encode(), "text/plain"))])
        assert form.status_code == 202, form.text
        # An e-mail with an attachment through the SMTP endpoint.
        await asyncio.to_thread(send_mail, int(stack.env["INTAKE_EMAIL_SMTP_PORT"]), email, name,
                                f"Акт сверки {surname}", f"Добрый день! {words['mail']}\n{name}, {phone}",
                                f"акт для {name} {words['file']}".encode())
        # Telegram: the number shared (which finds the card), then a message.
        await bot.call(bot.fake.add_update(telegram_message(user, 9001, contact={
            "phone_number": phone.lstrip("+"), "first_name": "Ефросинья", "last_name": surname,
            "user_id": user["id"]})))

        async def shared() -> bool:
            page = (await api.get(f"{tickets}/api/v1/tickets", params={"client_id": client_id})).json()
            return any(t["channel"] == "telegram" for t in page["items"])

        # Only once the card knows the chat does a message from it find the card (else: a new stranger's card).
        await eventually(shared, "the shared number on the card", 60)
        await bot.call(bot.fake.add_update(telegram_message(user, 9002, text=f"Касса не печатает {words['tg']}")))
        # A phone call, answered.
        pbx = ScriptedPbx()
        _, call = pbx.direct_call(phone, "103", caller_name=name)
        async with FakeAmiServer() as ami, bridge(stack, ami, name="telephony-erasure"):
            await ami.send(call)

            async def everything_arrived() -> list[dict[str, Any]] | None:
                page = (await api.get(f"{tickets}/api/v1/tickets", params={"client_id": client_id})).json()
                details = [(await api.get(f"{tickets}/api/v1/tickets/{t['number']}")).json() for t in page["items"]]
                text = json.dumps(details, ensure_ascii=False)
                channels = {m["channel"] for d in details for m in d["messages"]}
                seen.update(channels=sorted(channels), words=[c for c in ("web", "mail", "tg") if words[c] in text])
                wanted = all(words[c] in text for c in ("web", "mail", "tg")) and "phone" in channels
                return details if wanted else None

            seen: dict[str, Any] = {}
            details = await eventually(everything_arrived, "every channel's contact on the card's tickets", 90, seen)

        # An agent answers on the Telegram ticket: the reply crosses the outbox and the messenger's journal.
        telegram_ticket = next(d for d in details if any(m["channel"] == "telegram" for m in d["messages"]))
        answer = await api.post(f"{tickets}/api/v1/tickets/{telegram_ticket['number']}/replies",
                                json={"body": f"{user['first_name']}, проверьте кассу ({tag})"})
        assert answer.status_code == 202, answer.text
        await eventually(lambda: _async(any(str(user["id"]) == str(s["params"].get("chat_id")) and tag in str(s["params"])
                                            for s in list(bot.fake.sent))), "the answer in the chat")
        await asyncio.sleep(2)  # the delivery report reaches tickets and the journal row is written

        # Subject access: one export holds the person's card and every channel's words from tickets.
        export = await api.get(f"{identity}/api/v1/persons/{person_id}/export")
        assert export.status_code == 200, export.text
        assert export.json()["unavailable"] == {} and set(export.json()["services"]) == {"identity", "tickets", "router"}
        assert all(needle.casefold() in export.text.casefold() or needle in json.dumps(export.json(),
                   ensure_ascii=False) for needle in (email, surname, words["web"], words["mail"], words["tg"]))

        # The search below finds the person everywhere before the erasure (so its silence after means something).
        before = await everything_kept(urls, stack, amqp_url)
        assert {needle for needle in needles if hits(before, [needle])} == set(needles)

        # The router is down when the erasure is asked for: its part waits in its queue.
        stack.kill("router")
        erased = await api.post(f"{identity}/api/v1/persons/{person_id}/erase")
        assert erased.status_code == 200, erased.text
        erasure_id = erased.json()["erasure_id"]

        async def router_pending() -> bool:
            body = (await api.get(f"{identity}/api/v1/erasures/{erasure_id}")).json()
            status = {s["service"]: s["status"] for s in body["services"]}
            return status["tickets"] == "done" and status["router"] == "pending" and not body["complete"]

        await eventually(router_pending, "every running service reported, the router pending", 60)
        await asyncio.to_thread(stack.start, ["router"])

        async def report() -> dict[str, Any] | None:
            body = (await api.get(f"{identity}/api/v1/erasures/{erasure_id}")).json()
            return body if body["complete"] else None

        done = await eventually(report, "every service's erasure report", 60)
        by_service = {s["service"]: s["counts"] for s in done["services"]}
        assert by_service["tickets"]["tickets.ticket_messages"] >= 4 and by_service["tickets"]["blobs"] >= 3
        assert set(by_service) == {"identity", "tickets", "router", "intake-email", "intake-messenger", "portal"}
        again = await api.post(f"{identity}/api/v1/persons/{person_id}/erase")
        assert again.status_code == 200 and again.json()["erasure_id"] == erasure_id, "a repeat is the same erasure"
        assert "Ефросинья" not in erased.text and email not in erased.text
        after = await api.get(f"{identity}/api/v1/persons/{person_id}/export")
        assert after.status_code == 200 and hits({"export": json.dumps(after.json(), ensure_ascii=False)}, needles) == []

    places = await everything_kept(urls, stack, amqp_url)
    assert any("ticket_messages" in p for p in places), sorted(places)
    assert hits(places, needles) == []


async def _async(value: Any) -> Any:
    return value
