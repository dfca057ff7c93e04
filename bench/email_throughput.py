"""E-mail throughput: messages per second from an IMAP mailbox and from the SMTP endpoint to a stored ticket.

Starts the real services as processes (tickets, identity, router, intake-email, as the end-to-end tests do)
and a throwaway Dovecot. IMAP: N mails are put in a mailbox first; the clock runs from the moment
intake-email answers ``/health`` (it then connects, fetches, publishes) to the last ``ticket.created``.
SMTP: N mails are sent over ``--connections`` SMTP sessions; the clock runs from the first MAIL FROM to the
last ``ticket.created`` (tickets publishes it only after the ticket is committed). Also reported: IMAP to
``contact.received`` (intake-email's own part) and SMTP answers per second (each 250 waits for the confirm).

Then, in the same run, a raw baseline with the same hops and no Priyom code: an aioimaplib reader fetches the
same number of mails from the same Dovecot in the same batches and publishes each (persistent, confirmed) as
JSON; a bare aiosmtpd server publishes each mail the same way before its 250; three aio-pika stage processes
(identity, router, tickets: consume, decode, publish confirmed, ack, on quorum queues) carry it to the end.
The ``*_ratio`` figures (Priyom / raw) price Priyom's own work: parsing, blobs, databases, matching, routing.
On PostgreSQL a second baseline, the floor of this design, runs the same pipeline with the durable writes
every hop needs (``bench.e2e.RAW_DB_SCHEMA``; the intake's keyed by the mail's Message-ID, each hop on a
database of its own): ``*_ratio_vs_floor`` prices Priyom against it, and ``floor_*_ratio`` is the floor
against the bare bus, the most any intake that records what it took could reach. The floor sends no
registration notice and keeps no copy of the mail, which Priyom does, so it is a floor Priyom cannot pass.
Before any clock runs, 30 web contacts warm identity, router and tickets (connections, prepared statements,
caches). intake-email hands its registration notices to a relay that accepts them (``SinkRelay``), as a
deployment's does. ``cpu_ms_per_mail`` is each service's CPU (from /proc) a mail over both runs; an event seen twice on the bus counts once (``events_seen_again``). Prints one JSON line.

    python bench/email.py [--n 300] [--connections 8] [--db sqlite|postgresql]

(``bench/email.py`` runs this file; the code lives here so that the other bench scripts, which have bench/
first on sys.path, never import it in place of the stdlib's ``email``.)
"""

from __future__ import annotations

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import multiprocessing as mp
import os  # noqa: E402
import sys
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path

import aio_pika  # noqa: E402
import aiosmtplib  # noqa: E402
import asyncpg  # noqa: E402
from aioimaplib import IMAP4  # noqa: E402
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from prometheus_client import CollectorRegistry  # noqa: E402

from bench.e2e import dsn, raw_databases, raw_stage  # noqa: E402
from bench.identity import cpu_seconds  # noqa: E402
from priyom_contracts import Contact, ContactReceived, Sender, Topology, utcnow  # noqa: E402
from priyom_intake_email.imap.plan import fetched_messages, uid_set  # noqa: E402
from priyom_kit import Bus  # noqa: E402
from priyom_kit.pytest_plugin import create_pg_database, delete_prefixed, drop_pg_database  # noqa: E402
from priyom_kit.settings import ServiceSettings  # noqa: E402
from priyom_testing.dovecot import Dovecot, start_dovecot  # noqa: E402
from priyom_testing.ports import free_port  # noqa: E402
from priyom_testing.stack import Stack, stack_env  # noqa: E402

AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
HOPS = 3  # contact.received -> identity -> router -> tickets -> ticket.created
BODY = "Здравствуйте! После обновления не приходит счёт за ноябрь, прошу проверить. " * 3


def mails(n: int, tag: str) -> list[bytes]:
    return [(f"From: Клиент {i} <bench.{tag}.{i}@example.ru>\r\nTo: support@priyom.local\r\n"
             f"Subject: =?utf-8?B?0KHRh9GR0YI=?= {tag} {i}\r\nMessage-ID: <bench-{tag}-{i}-{uuid.uuid4().hex}@example.ru>\r\n"
             f"Date: Wed, 25 Nov 2026 12:00:00 +0300\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{BODY}\r\n"
             ).encode() for i in range(n)]


class Counter:
    """Counts one event type on the bus and notes when each total is reached."""

    def __init__(self) -> None:
        self.count = 0
        self.last = 0.0
        self.target = 0
        self.done = asyncio.Event()

    def seen(self) -> None:
        self.count += 1
        self.last = time.perf_counter()
        if self.target and self.count >= self.target:
            self.done.set()

    async def reached(self, total: int, timeout: float) -> float:
        self.target = total
        if self.count < total:
            await asyncio.wait_for(self.done.wait(), timeout)
            self.done.clear()
        return self.last


class Tap:
    """``contact.received.v1.email`` (the mail is safe on the bus) and ``ticket.created.v1.email`` (stored)."""

    def __init__(self, prefix: str) -> None:
        self.topology = Topology(prefix)
        self.contacts = Counter()
        self.tickets = Counter()
        self.warm = Counter()
        self.seen: set[tuple[str, object]] = set()
        self.repeats = 0

    async def start(self) -> None:
        self.connection = await aio_pika.connect(AMQP_URL)
        channel = await self.connection.channel()
        exchange = await channel.get_exchange(self.topology.exchange)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key="ticket.created.v1.email")
        await queue.bind(exchange, routing_key="contact.received.v1.email")
        await queue.bind(exchange, routing_key="ticket.created.v1.web")  # the warm-up's
        await queue.consume(self._on_event, no_ack=True)

    async def _on_event(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        key = message.routing_key or ""
        # An event sent again (an outbox relayed twice, a redelivery published again) counts once.
        identity = (key, message.message_id or message.body)
        if identity in self.seen:
            self.repeats += 1
            return
        self.seen.add(identity)
        if key.endswith(".web"):
            self.warm.seen()
        else:
            (self.tickets if key.startswith("ticket.created.") else self.contacts).seen()

    async def close(self) -> None:
        await self.connection.close()


async def seed_mailbox(dovecot: Dovecot, user: str, raws: list[bytes]) -> None:
    client = IMAP4("127.0.0.1", dovecot.port, timeout=30)
    await client.wait_hello_from_server()
    await client.login(user, dovecot.password)
    for raw in raws:
        await client.append(raw, mailbox="INBOX")
    await client.logout()


async def send_smtp(port: int, raws: list[bytes], connections: int) -> None:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for raw in raws:
        queue.put_nowait(raw)

    async def session() -> None:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=60) as client:
            while not queue.empty():
                raw = queue.get_nowait()
                await client.sendmail("bench@example.ru", ["support@priyom.local"], raw)

    await asyncio.gather(*(session() for _ in range(connections)))


# -- raw baseline ------------------------------------------------------------------------------------------

class RawPipeline:
    """Quorum queues raw.0 … raw.HOPS on a topic exchange, one stage process per hop, a counter at the end.

    With ``databases`` (one PostgreSQL database for the intake, then one a hop), every hop also makes the
    durable writes of this design (``bench.e2e.RAW_DB_SCHEMA``: inbox row, the hop's row, outbox row in one
    transaction, the outbox row marked sent after the confirmed publish), and so does the intake before it
    publishes a mail, keyed by the mail's Message-ID: the floor an intake that keeps what it took can reach."""

    def __init__(self, prefetch: int, databases: list[str] | None = None) -> None:
        self.prefix = f"bench{uuid.uuid4().hex[:6]}."
        self.prefetch = prefetch
        self.databases = databases or []
        self.arrived = Counter()
        self.pool: asyncpg.Pool | None = None

    async def __aenter__(self) -> RawPipeline:
        self.connection = await aio_pika.connect(AMQP_URL)
        self.channel = await self.connection.channel(publisher_confirms=True)
        self.exchange = await self.channel.declare_exchange(f"{self.prefix}raw", aio_pika.ExchangeType.TOPIC,
                                                            durable=True)
        for stage in range(HOPS + 1):
            queue = await self.channel.declare_queue(f"{self.prefix}raw.{stage}", durable=True,
                                                     arguments={"x-queue-type": "quorum"})
            await queue.bind(self.exchange, routing_key=f"raw.{stage}")
        if self.databases:
            self.pool = await asyncpg.create_pool(dsn(self.databases[0]), min_size=2, max_size=10)
        ctx = mp.get_context("spawn")
        self.workers = [ctx.Process(target=raw_stage, args=(
            self.prefix, stage, self.prefetch, dsn(self.databases[stage + 1]) if self.databases else None),
            daemon=True) for stage in range(HOPS)]
        for worker in self.workers:
            worker.start()
        end = await self.channel.get_queue(f"{self.prefix}raw.{HOPS}")

        async def on_end(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await message.ack()
            self.arrived.seen()

        await end.consume(on_end)
        await asyncio.sleep(2)  # let the stage processes connect
        return self

    async def publish(self, raw: bytes) -> None:
        """What an intake does at the least: the mail as JSON, persistent, mandatory, confirmed; with a
        database, first recorded (inbox by Message-ID, the mail, outbox) so a mail fetched again is not sent
        twice, and its outbox row marked sent after the confirm."""
        body = json.dumps({"channel": "email", "mail": raw.decode("utf-8", "replace")})
        key = uuid.uuid4().hex
        outbox_id = None
        if self.pool is not None:
            key = raw.split(b"Message-ID: ", 1)[1].split(b"\r\n", 1)[0].decode()
            async with self.pool.acquire() as db, db.transaction():
                if await db.fetchval("INSERT INTO inbox (key, outcome) VALUES ($1, '{}') "
                                     "ON CONFLICT DO NOTHING RETURNING 1", key) is None:
                    return
                await db.execute("INSERT INTO records (key, body) VALUES ($1, $2)", key, body)
                outbox_id = await db.fetchval("INSERT INTO outbox (body) VALUES ($1) RETURNING id", body)
        await self.exchange.publish(aio_pika.Message(body.encode(), delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                                                     message_id=key, content_type="application/json"),
                                    routing_key="raw.0", mandatory=True)
        if self.pool is not None:
            await self.pool.execute("UPDATE outbox SET sent_at = now() WHERE id = $1", outbox_id)

    async def __aexit__(self, *exc: object) -> None:
        for worker in self.workers:
            worker.terminate()
        if self.pool is not None:
            await self.pool.close()
        for stage in range(HOPS + 1):
            await self.channel.queue_delete(f"{self.prefix}raw.{stage}")
        await self.channel.exchange_delete(f"{self.prefix}raw")
        await self.connection.close()


async def raw_imap(pipeline: RawPipeline, dovecot: Dovecot, user: str, batch: int) -> None:
    """Fetch every mail in batches, publish each batch concurrently, flag it: the reader without Priyom."""
    client = IMAP4("127.0.0.1", dovecot.port, timeout=60)
    await client.wait_hello_from_server()
    await client.login(user, dovecot.password)
    await client.select("INBOX")
    found = await client.uid_search("UNSEEN")
    uids = [int(u) for u in bytes(found.lines[0]).split()]
    for start in range(0, len(uids), batch):
        chunk = uids[start:start + batch]
        response = await client.uid("fetch", uid_set(chunk), "(UID BODY.PEEK[])")
        await asyncio.gather(*(pipeline.publish(raw) for raw in fetched_messages(response.lines).values()))
        await client.uid("store", uid_set(chunk), "+FLAGS.SILENT", r"(\Seen)")
    await client.logout()


class RawSmtpHandler:
    def __init__(self, pipeline: RawPipeline) -> None:
        self.pipeline = pipeline

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:  # noqa: N802
        await self.pipeline.publish(envelope.original_content or b"")
        return "250 2.0.0 OK: queued"


WARM_UP = 30


async def warm_up(prefix: str, tap: Tap, n: int = WARM_UP) -> None:
    """Contacts through identity, router and tickets before any clock runs, as ``bench/e2e.py`` warms its
    pipeline: the first contacts of a process open its database connections, prepare its statements and fill
    its caches, which would otherwise be priced as the IMAP burst's. Web contacts, so no mail is counted."""
    bus = Bus(ServiceSettings(PRIYOM_BUS_PREFIX=prefix), "bench-warm-up", CollectorRegistry())
    await bus.start()
    try:
        for i in range(n):
            contact_id = uuid.uuid4()
            await bus.publish(ContactReceived(
                correlation_id=contact_id, channel="web", idempotency_key=f"warm-up-{contact_id}",
                contact=Contact(contact_id=contact_id, received_at=utcnow(), body=BODY,
                                sender=Sender(name=f"Клиент {i}", email=f"warm.{i}@example.org"))))
    finally:
        await bus.stop()
    await tap.warm.reached(n, 120)


class SinkRelay:
    """The relay intake-email hands the customers' registration notices to: accepts every mail and keeps none.

    A deployment has a relay that takes them; without one every notice would fail, be reported as retrying to
    tickets and be retried, and the benchmark would price that churn instead of the intake. Runs in a thread
    of its own (aiosmtpd's controller), outside the services whose CPU is measured."""

    async def handle_DATA(self, server: SMTP, session: object, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        return "250 OK"


async def measure_raw(n: int, connections: int, dovecot: Dovecot, prefetch: int, batch: int,
                      databases: list[str] | None = None) -> dict[str, float]:
    """The raw pipeline's figures, or with ``databases`` the floor's (named ``floor_…``)."""
    name = "floor" if databases else "raw"
    result: dict[str, float] = {}
    wait = max(120.0, n / 2)
    async with RawPipeline(prefetch, databases) as pipeline:
        user = f"{name}{uuid.uuid4().hex[:6]}"
        await seed_mailbox(dovecot, user, mails(n, f"{name}-imap"))
        t0 = time.perf_counter()
        await raw_imap(pipeline, dovecot, user, batch)
        result[f"{name}_imap_to_ticket_per_s"] = round(n / (await pipeline.arrived.reached(n, wait) - t0), 1)
        server = await asyncio.get_running_loop().create_server(
            lambda: SMTP(RawSmtpHandler(pipeline), hostname="raw.local"), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        t0 = time.perf_counter()
        await send_smtp(port, mails(n, f"{name}-smtp"), connections)
        result[f"{name}_smtp_250_per_s"] = round(n / (time.perf_counter() - t0), 1)
        result[f"{name}_smtp_to_ticket_per_s"] = round(n / (await pipeline.arrived.reached(2 * n, wait) - t0), 1)
        server.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="sqlite")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="priyom-bench-email-"))
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    names = ("identity", "tickets", "router", "intake-email")
    if args.db == "postgresql":
        urls = {name: asyncio.run(create_pg_database()) for name in names}
    else:
        urls = {name: f"sqlite+aiosqlite:///{workdir / name}.db" for name in names}
    dovecot = start_dovecot()
    relay = Controller(SinkRelay(), hostname="127.0.0.1", port=free_port())
    relay.start()
    user = f"bench{uuid.uuid4().hex[:6]}"
    env = stack_env(os.environ, workdir=workdir, prefix=prefix,
                    database_urls=urls)
    env.update(LOG_LEVEL="WARNING", ROUTER_DATABASE_URL=urls["router"],
               INTAKE_EMAIL_DATABASE_URL=urls["intake-email"],
               INTAKE_EMAIL_RELAY_HOST="127.0.0.1", INTAKE_EMAIL_RELAY_PORT=str(relay.port),
               INTAKE_EMAIL_RELAY_STARTTLS="false",
               INTAKE_EMAIL_IMAP_MAILBOXES=json.dumps([dovecot.mailbox_config(user)]))
    stack = Stack(env=env, workdir=workdir)
    result: dict[str, object] = {"n": args.n, "connections": args.connections, "db": args.db}

    async def measure() -> None:
        tap = Tap(prefix)
        await tap.start()
        wait = max(120.0, args.n / 2)
        try:
            await warm_up(prefix, tap)
            # IMAP: the mailbox is full before intake-email starts; the clock starts when it is healthy.
            await seed_mailbox(dovecot, user, mails(args.n, "imap"))
            before = {service: cpu_seconds(process.pid) for service, process in stack.processes.items()}
            await asyncio.to_thread(stack.start, ["intake-email"])
            t0 = time.perf_counter()
            before["intake-email"] = cpu_seconds(stack.processes["intake-email"].pid)  # its start-up aside
            result["imap_to_contact_per_s"] = round(args.n / (await tap.contacts.reached(args.n, wait) - t0), 1)
            result["imap_to_ticket_per_s"] = round(args.n / (await tap.tickets.reached(args.n, wait) - t0), 1)
            # SMTP: the service is running; N mails over a few sessions, each answered 250 after the confirm.
            t0 = time.perf_counter()
            await send_smtp(int(env["INTAKE_EMAIL_SMTP_PORT"]), mails(args.n, "smtp"), args.connections)
            result["smtp_250_per_s"] = round(args.n / (time.perf_counter() - t0), 1)
            result["smtp_to_ticket_per_s"] = round(args.n / (await tap.tickets.reached(2 * args.n, wait) - t0), 1)
            # Each service's CPU a mail over both runs (2n mails): one run's work spills into the next (the
            # notices of the IMAP run's mails are delivered, and their reports handled, during the SMTP run).
            result["cpu_ms_per_mail"] = {
                service: round((cpu_seconds(stack.processes[service].pid) - spent) / (2 * args.n) * 1000, 2)
                for service, spent in before.items()}
            result["events_seen_again"] = tap.repeats
        finally:
            await tap.close()

    try:
        stack.migrate()
        stack.start(["tickets", "identity", "router"])
        asyncio.run(measure())
        stack.stop()  # the raw baseline gets the machine to itself, as Priyom did
        prefetch, batch = int(env.get("PRIYOM_PREFETCH", "32")), int(env.get("INTAKE_EMAIL_IMAP_BATCH", "100"))
        raw = asyncio.run(measure_raw(args.n, args.connections, dovecot, prefetch, batch))
        if args.db == "postgresql":
            floor_urls = asyncio.run(raw_databases(HOPS + 1))  # the intake's, then one a hop
            urls.update({f"floor-{i}": url for i, url in enumerate(floor_urls)})  # dropped with the others
            raw |= asyncio.run(measure_raw(args.n, args.connections, dovecot, prefetch, batch, floor_urls))
    finally:
        stack.stop()
        dovecot.stop()
        relay.stop()
        asyncio.run(delete_prefixed(AMQP_URL, prefix))
        if args.db == "postgresql":
            for url in urls.values():
                asyncio.run(drop_pg_database(url))
    result.update(raw)
    for figure in ("imap_to_ticket_per_s", "smtp_250_per_s", "smtp_to_ticket_per_s"):
        result[figure.replace("_per_s", "_ratio")] = round(float(result[figure]) / raw[f"raw_{figure}"], 3)
        if f"floor_{figure}" in raw:
            result[figure.replace("_per_s", "_ratio_vs_floor")] = round(float(result[figure]) / raw[f"floor_{figure}"], 3)
            result[f"floor_{figure.replace('_per_s', '_ratio')}"] = round(raw[f"floor_{figure}"] / raw[f"raw_{figure}"], 3)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
