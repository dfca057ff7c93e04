"""End-to-end throughput and latency: web POST to stored ticket, against a raw aio-pika pipeline.

Starts the real services as processes (as the end-to-end tests do), pushes N contacts through
``POST /api/v1/contacts`` with a bounded number in flight, and times each from the POST to the
``ticket.created`` event, which tickets publishes only after the ticket is committed. Then runs a raw
aio-pika pipeline in the same invocation with the same number of hops (one process per stage, quorum queues,
persistent messages, publisher confirms, manual acks, the same message size) and prints one JSON line with
both sets of figures and their ratio, so the ratio prices Priyom's own code alone. A second raw pipeline adds,
at every hop, the durable writes the design needs (an inbox row keyed by the message, the hop's own row and an
outbox row in one asyncpg transaction, the outbox row marked sent after the confirmed publish), each hop on a
PostgreSQL database of its own: ``ratio_vs_raw_with_db`` prices Priyom against the floor of this design.
``cpu_ms_per_contact`` is each service's CPU (user and system, from /proc) over the measured run divided by
the contacts, the figure the per-contact budget is set in; beside them the database's (the backends serving
the run's databases) and the broker's (the whole RabbitMQ node: read it on a quiet machine), and the same
for the raw pipelines (``stages`` is their hop processes together), so a ratio can be read as where the CPU went.

    python bench/e2e.py [--n 500] [--concurrency 32] [--rate 20] [--db postgresql|sqlite] [--priyom-only]

Without ``--rate`` the contacts are pushed as fast as the bound allows, so the latency figures are mostly
time spent waiting in queues at saturation. ``--rate R`` paces them open-loop (one every 1/R s, both
pipelines), which prices one contact's way through at a load the machine can carry: the figure for
"registered within milliseconds".
"""

from __future__ import annotations

import sys
from pathlib import Path

# This folder first on sys.path would let bench/email.py shadow the standard library's email package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import multiprocessing as mp  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

import aio_pika  # noqa: E402
import aiohttp  # noqa: E402
import asyncpg  # noqa: E402

from bench.identity import cpu_seconds  # noqa: E402
from priyom_contracts import Topology  # noqa: E402
from priyom_kit.pytest_plugin import (  # noqa: E402
    create_pg_database,
    delete_prefixed,
    drop_pg_database,
    pg_admin_url,
)
from priyom_testing.stack import Stack, database_urls, stack_env  # noqa: E402

AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
HOPS = 4  # intake-web -> identity -> router -> tickets -> ticket.created


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def figures(latencies: list[float], elapsed: float) -> tuple[float, float, float]:
    return len(latencies) / elapsed, percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000


# -- what the peers spend -------------------------------------------------------------------------------

class PeerCpu:
    """CPU the database and the broker spend on a run: the PostgreSQL backends connected to the run's databases
    (one process a connection) and the RabbitMQ node (the whole node: whatever else uses it counts too, so
    read it on a quiet machine). A backend that connects during the run counts from its start. ``client`` is
    this process, the load: Priyom's is sent as HTTP requests, the raw pipelines' as publishes."""

    def __init__(self, databases: list[str]) -> None:
        self._names = [url.rsplit("/", 1)[1] for url in databases]
        self._before: dict[str, dict[int, float]] = {}

    async def start(self) -> None:
        self._before = await self._read()

    async def spent_s(self) -> dict[str, float]:
        after = await self._read()
        return {peer: sum(max(0.0, cpu - self._before.get(peer, {}).get(pid, 0.0)) for pid, cpu in pids.items())
                for peer, pids in after.items()}

    async def _read(self) -> dict[str, dict[int, float]]:
        backends: list[int] = []
        if self._names:
            admin = await asyncpg.connect(pg_admin_url())
            try:
                rows = await admin.fetch("SELECT pid FROM pg_stat_activity WHERE datname = ANY($1::text[])",
                                         self._names)
            finally:
                await admin.close()
            backends = [row["pid"] for row in rows]
        return {"postgresql": _cpu_of(backends), "rabbitmq": _cpu_of(_broker_pids()), "client": _cpu_of([os.getpid()])}


def _broker_pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _comm(p) == "beam.smp"]


def _comm(proc: Path) -> str:
    try:
        return (proc / "comm").read_text().strip()
    except OSError:
        return ""


def _cpu_of(pids: list[int]) -> dict[int, float]:
    spent = {}
    for pid in pids:
        try:
            spent[pid] = cpu_seconds(pid)
        except OSError:  # gone meanwhile
            continue
    return spent


def per_contact_ms(seconds: float, contacts: int) -> float:
    return round(seconds / contacts * 1000, 2)


# -- Priyom ---------------------------------------------------------------------------------------------

async def pace(t_start: float, i: int, rate: float | None) -> None:
    """Open-loop pacing: contact ``i`` leaves at ``t_start + i / rate`` (at once without a rate)."""
    if rate:
        await asyncio.sleep(max(0.0, t_start + i / rate - time.perf_counter()))


async def run_priyom(stack: Stack, n: int, concurrency: int, rate: float | None = None,
                     retries: list[int] | None = None) -> tuple[list[float], float, int]:
    """Latencies, elapsed seconds and the median body size of ``n`` contacts; each submission sent again
    appends its index to ``retries``."""
    retries = [] if retries is None else retries
    topology = Topology(stack.env["PRIYOM_BUS_PREFIX"])
    started: dict[str, float] = {}
    finished: dict[str, float] = {}  # the event may arrive before the POST's response is read
    done = asyncio.Event()
    connection = await aio_pika.connect(AMQP_URL)
    channel = await connection.channel()
    exchange = await channel.get_exchange(topology.exchange)
    tap = await channel.declare_queue(exclusive=True, auto_delete=True)
    await tap.bind(exchange, routing_key="ticket.created.v1.*")
    await tap.bind(exchange, routing_key="contact.routed.v1.*")
    sizes: list[int] = []  # bytes of a contact.routed message: the raw pipeline sends the same size

    async def on_ticket(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            if message.routing_key and message.routing_key.startswith("contact.routed."):
                sizes.append(len(message.body))
                return
            finished[json.loads(message.body)["contact_id"]] = time.perf_counter()
            if len(finished) == n:
                done.set()

    await tap.consume(on_ticket)
    limit = asyncio.Semaphore(concurrency)
    body = "Здравствуйте! Не работает выгрузка в 1С после обновления, прошу помочь. " * 4

    # aiohttp's client, not httpx's: the load generator shares the machine with what it measures, and httpx
    # spent about 3.5 ms of CPU a request here (the raw pipelines' publisher 0.6 ms a message).
    async with aiohttp.ClientSession(base_url=stack.url("intake-web"), timeout=aiohttp.ClientTimeout(total=30),
                                     connector=aiohttp.TCPConnector(limit=concurrency)) as client:

        async def one(i: int) -> None:
            await pace(t_start, i, rate)
            form = {"name": f"Клиент {i}", "email": f"bench.{i}.{uuid.uuid4().hex[:6]}@example.ru",
                    "subject": "Выгрузка", "message": body, "consent": True}
            # As the API asks of a client: a submission whose answer was lost (the server closed a kept-alive
            # connection as it was reused) or that was refused as busy is sent again with the same key.
            headers = {"Idempotency-Key": str(uuid.uuid4())}
            async with limit:
                t0 = time.perf_counter()
                for attempt in range(1, 4):
                    try:
                        async with client.post("/api/v1/contacts", json=form, headers=headers) as response:
                            if response.status == 503 and attempt < 3:
                                retries.append(i)
                                await asyncio.sleep(float(response.headers.get("retry-after", "1")))
                                continue
                            response.raise_for_status()
                            started[(await response.json())["contact_id"]] = t0
                            return
                    except aiohttp.ClientConnectionError:
                        if attempt == 3:
                            raise
                        retries.append(i)

        t_start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        await asyncio.wait_for(done.wait(), timeout=max(120, n))
        elapsed = time.perf_counter() - t_start
    await connection.close()
    latencies = [finished[contact_id] - t0 for contact_id, t0 in started.items()]
    return latencies, elapsed, int(statistics.median(sizes))


# -- raw aio-pika ----------------------------------------------------------------------------------------

#: What each hop of the raw pipeline with a database writes, as every Priyom consumer does: the delivery's
#: idempotency key in an inbox, the service's own row, and the message it will publish in an outbox, in one
#: transaction; after the confirmed publish the outbox row is marked sent.
RAW_DB_SCHEMA = """
CREATE TABLE inbox (key text PRIMARY KEY, outcome jsonb NOT NULL, at timestamptz NOT NULL DEFAULT now());
CREATE TABLE records (id bigserial PRIMARY KEY, key text NOT NULL, body jsonb NOT NULL);
CREATE TABLE outbox (id bigserial PRIMARY KEY, body jsonb NOT NULL, sent_at timestamptz);
"""


def raw_stage(prefix: str, stage: int, prefetch: int, dsn: str | None = None) -> None:
    """One hop: consume from stage queue N, publish confirmed to N+1, then ack (what each service does).
    With ``dsn``, also the durable writes of a hop (:data:`RAW_DB_SCHEMA`) through asyncpg, the inbox
    checked first so a redelivery is not handled twice: the floor of this design, not only of the bus."""

    async def main() -> None:
        connection = await aio_pika.connect_robust(AMQP_URL)
        channel = await connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=prefetch)
        exchange = await channel.get_exchange(f"{prefix}raw")
        queue = await channel.get_queue(f"{prefix}raw.{stage}")
        pool = await asyncpg.create_pool(dsn, min_size=2, max_size=10) if dsn else None

        async def handle(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            data = json.loads(message.body)  # the same decode/encode work a typed consumer cannot skip
            body = json.dumps(data)
            outbox_id = None
            if pool is not None:
                async with pool.acquire() as db, db.transaction():
                    if await db.fetchval("INSERT INTO inbox (key, outcome) VALUES ($1, '{}') "
                                         "ON CONFLICT DO NOTHING RETURNING 1", message.message_id) is None:
                        await message.ack()  # handled before: a redelivery
                        return
                    await db.execute("INSERT INTO records (key, body) VALUES ($1, $2)", message.message_id, body)
                    outbox_id = await db.fetchval("INSERT INTO outbox (body) VALUES ($1) RETURNING id", body)
            await exchange.publish(
                aio_pika.Message(body.encode(), delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                                 message_id=message.message_id, content_type="application/json"),
                routing_key=f"raw.{stage + 1}", mandatory=True)
            if pool is not None:
                await pool.execute("UPDATE outbox SET sent_at = now() WHERE id = $1", outbox_id)
            await message.ack()

        await queue.consume(handle)
        await asyncio.Future()

    asyncio.run(main())


async def raw_databases(count: int = HOPS) -> list[str]:
    """One throwaway PostgreSQL database per hop (each service has its own), with the hop's tables."""
    urls = [await create_pg_database() for _ in range(count)]
    for url in urls:
        db = await asyncpg.connect(dsn(url))
        try:
            await db.execute(RAW_DB_SCHEMA)
        finally:
            await db.close()
    return urls


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def run_raw(n: int, concurrency: int, size: int, prefetch: int,
                  rate: float | None = None, with_db: bool = False
                  ) -> tuple[list[float], float, dict[str, float]]:
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    databases = await raw_databases() if with_db else []
    connection = await aio_pika.connect(AMQP_URL)
    channel = await connection.channel(publisher_confirms=True)
    exchange = await channel.declare_exchange(f"{prefix}raw", aio_pika.ExchangeType.TOPIC, durable=True)
    for stage in range(HOPS + 1):
        queue = await channel.declare_queue(f"{prefix}raw.{stage}", durable=True,
                                            arguments={"x-queue-type": "quorum"})
        await queue.bind(exchange, routing_key=f"raw.{stage}")
    ctx = mp.get_context("spawn")
    workers = [ctx.Process(target=raw_stage, args=(prefix, stage, prefetch, dsn(databases[stage]) if databases
                                                   else None), daemon=True) for stage in range(HOPS)]
    for worker in workers:
        worker.start()
    started: dict[str, float] = {}
    latencies: list[float] = []
    done = asyncio.Event()
    result_queue = await channel.get_queue(f"{prefix}raw.{HOPS}")

    async def on_result(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            latencies.append(time.perf_counter() - started.pop(message.message_id))
            if len(latencies) == n:
                done.set()

    await result_queue.consume(on_result)
    await asyncio.sleep(2)  # let the stage processes connect
    peers = PeerCpu(databases)
    await peers.start()
    stages_before = sum(cpu_seconds(worker.pid) for worker in workers if worker.pid)
    payload = json.dumps({"body": "x" * max(0, size - 20)}).encode()
    limit = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        await pace(t_start, i, rate)
        async with limit:
            key = f"{i}"
            started[key] = time.perf_counter()
            await exchange.publish(aio_pika.Message(payload, delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                                                    message_id=key, content_type="application/json"),
                                   routing_key="raw.0", mandatory=True)

    t_start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    await asyncio.wait_for(done.wait(), timeout=max(120, n))
    elapsed = time.perf_counter() - t_start
    cpu_ms = {"stages": per_contact_ms(sum(cpu_seconds(w.pid) for w in workers if w.pid) - stages_before, n),
              **{peer: per_contact_ms(spent, n) for peer, spent in (await peers.spent_s()).items()}}
    for worker in workers:
        worker.terminate()
    for stage in range(HOPS + 1):
        await channel.queue_delete(f"{prefix}raw.{stage}")
    await channel.exchange_delete(f"{prefix}raw")
    await connection.close()
    for url in databases:
        await drop_pg_database(url)
    return latencies, elapsed, cpu_ms


# -- main ------------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=None,
                        help="contacts per second, paced open-loop (default: as fast as --concurrency allows)")
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--priyom-only", action="store_true",
                        help="skip the raw pipelines (a quick look at Priyom's figures and CPU while changing it)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="priyom-bench-"))
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    urls = database_urls(args.db, workdir, lambda: asyncio.run(create_pg_database()))
    env = stack_env(os.environ, workdir=workdir, prefix=prefix,
                    database_urls=urls)
    env["LOG_LEVEL"] = "WARNING"
    stack = Stack(env=env, workdir=workdir)
    try:
        stack.migrate()
        stack.start(["tickets", "identity", "router", "intake-web"])
        asyncio.run(run_priyom(stack, min(20, args.n), args.concurrency))  # warm-up
        peers = PeerCpu(list(urls.values()) if args.db == "postgresql" else [])
        asyncio.run(peers.start())
        before = {service: cpu_seconds(process.pid) for service, process in stack.processes.items()}
        retries: list[int] = []
        latencies, elapsed, size = asyncio.run(run_priyom(stack, args.n, args.concurrency, args.rate, retries))
        # Each service's CPU per contact over the measured run (the per-contact budget), and the
        # database's and the broker's.
        cpu_ms = {service: per_contact_ms(cpu_seconds(stack.processes[service].pid) - spent, len(latencies))
                  for service, spent in before.items()}
        cpu_ms |= {peer: per_contact_ms(spent, len(latencies)) for peer, spent in asyncio.run(peers.spent_s()).items()}
    finally:
        stack.stop()
        asyncio.run(delete_prefixed(AMQP_URL, prefix))
        if args.db == "postgresql":
            for url in urls.values():
                asyncio.run(drop_pg_database(url))
    per_s, p50, p99 = figures(latencies, elapsed)
    if args.priyom_only:
        print(json.dumps({"contacts_per_s": round(per_s, 1), "p50_ms": round(p50, 1), "p99_ms": round(p99, 1),
                          "n": args.n, "db": args.db, "cpu_ms_per_contact": cpu_ms,
                          "client_retries": len(retries)}))
        return
    prefetch = int(env.get("PRIYOM_PREFETCH", "32"))
    raw_latencies, raw_elapsed, raw_cpu = asyncio.run(run_raw(args.n, args.concurrency, size, prefetch, args.rate))
    db_latencies, db_elapsed, db_cpu = asyncio.run(run_raw(args.n, args.concurrency, size, prefetch, args.rate,
                                                           with_db=True))

    raw_per_s, raw_p50, raw_p99 = figures(raw_latencies, raw_elapsed)
    db_per_s, db_p50, db_p99 = figures(db_latencies, db_elapsed)
    print(json.dumps({
        "contacts_per_s": round(per_s, 1), "p50_ms": round(p50, 1), "p99_ms": round(p99, 1),
        "raw_per_s": round(raw_per_s, 1), "raw_p50_ms": round(raw_p50, 1), "raw_p99_ms": round(raw_p99, 1),
        "ratio": round(per_s / raw_per_s, 3),
        "p50_vs_raw": round(p50 / raw_p50, 2), "p99_vs_raw": round(p99 / raw_p99, 2),
        "raw_with_db_per_s": round(db_per_s, 1), "raw_with_db_p50_ms": round(db_p50, 1),
        "raw_with_db_p99_ms": round(db_p99, 1), "ratio_vs_raw_with_db": round(per_s / db_per_s, 3),
        "n": args.n, "concurrency": args.concurrency, "rate": args.rate, "db": args.db, "hops": HOPS,
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
        "cpu_ms_per_contact": cpu_ms,
        "raw_cpu_ms_per_contact": raw_cpu, "raw_with_db_cpu_ms_per_contact": db_cpu,
        "client_retries": len(retries),
        "cpu_ms_per_contact_identity_router_tickets": round(sum(cpu_ms[s] for s in ("identity", "router", "tickets")), 2),
    }))


if __name__ == "__main__":
    main()
