"""Identity at scale: lookup latency with N persons in PostgreSQL, over the bus and over HTTP, and import rate.

Creates a throwaway PostgreSQL database, migrates it, loads N persons with COPY (one phone and one email
each, ``--per-card`` persons to a company card), starts the real identity service as a process on its own
bus prefix, and measures, one request at a time as a PBX bridge asks:

* the bus request/reply lookup (``identity.lookup``) through :class:`priyom_kit.rpc.RpcClient` by phone and
  by email, first with numbers never asked before (database path), then with numbers asked once (cache
  path); and, for comparison, through faststream's own ``broker.request``;
* ``GET /api/v1/clients/lookup`` (the whole card) by phone and by email;
* cards per second through ``POST /api/v1/clients/import`` (CSV, one new company card per row).

Prints one JSON line. Everything it creates (database, queues, process) is removed at the end.

    python bench/identity.py [--n 1000000] [--lookups 2000] [--import-rows 5000]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Python puts this script's folder first on sys.path, where bench/email.py would shadow the standard
# library's email package (which importlib.metadata needs): drop the folder before importing anything else.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import secrets  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from faststream.rabbit import RabbitBroker  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

from priyom_contracts import ClientLookupReply, ClientLookupRequest, Topology  # noqa: E402
from priyom_identity.lookup.reader import LOOKUP_SQL  # noqa: E402
from priyom_identity.store import migrate_database  # noqa: E402
from priyom_kit.pytest_plugin import create_pg_database, delete_prefixed, drop_pg_database  # noqa: E402
from priyom_kit.rpc import RpcClient  # noqa: E402

AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
CHUNK = 50_000
FIRST_PHONE = 9_160_000_000  # +7 916 …: a Moscow mobile range, valid for libphonenumber


def phone(i: int) -> str:
    return f"+7{FIRST_PHONE + i}"


def typed(i: int) -> str:
    """The number as a person types it: ``8 (916) 000-00-12``."""
    digits = str(FIRST_PHONE + i)
    return f"8 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}"


def email(i: int) -> str:
    return f"p{i}@corp{i // 4}.example.ru"


def cpu_seconds(pid: int) -> float:
    """User plus system CPU a process has used (Linux): the cost of a lookup whatever else the machine runs."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(latencies: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(latencies, 0.5) * 1000, 3),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 3),
            "max_ms": round(max(latencies) * 1000, 3), "n": len(latencies)}


# -- loading ----------------------------------------------------------------------------------------------


async def load(dsn: str, n: int, per_card: int) -> tuple[float, bool]:
    """COPY ``n`` persons into the migrated database: the seconds it took (ANALYZE included) and whether the
    buffers were prewarmed."""
    now = datetime.now(UTC)
    started = time.perf_counter()
    connection = await asyncpg.connect(dsn)
    try:
        for start in range(0, n, CHUNK):
            people = range(start, min(n, start + CHUNK))
            card_ids: dict[int, uuid.UUID] = {}
            clients, persons, identifiers = [], [], []
            for i in people:
                card = i // per_card
                if card not in card_ids:
                    card_ids[card] = uuid.uuid4()
                    name = f"ООО Компания {card}"
                    clients.append((card_ids[card], "org", name, "standard", None, False, now, now, now, now,
                                    None, None, "[]", None, name.casefold()))
                person_id = uuid.uuid4()
                persons.append((person_id, card_ids[card], f"Сотрудник {i}", None, now, None, None))
                identifiers.append((uuid.uuid4(), card_ids[card], person_id, "phone", phone(i), phone(i), None,
                                    now, None))
                identifiers.append((uuid.uuid4(), card_ids[card], person_id, "email", email(i), email(i), None,
                                    now, email(i).rpartition("@")[2]))
            async with connection.transaction():
                await connection.copy_records_to_table("clients", records=clients, columns=[
                    "id", "kind", "name", "sla_tier", "account_manager", "provisional", "first_contact_at",
                    "last_contact_at", "created_at", "updated_at", "legal_id", "region", "tags", "notes",
                    "search_name"])
                await connection.copy_records_to_table("contact_persons", records=persons, columns=[
                    "id", "client_id", "full_name", "position", "created_at", "role", "erased_at"])
                await connection.copy_records_to_table("identifiers", records=identifiers, columns=[
                    "id", "client_id", "person_id", "kind", "value", "raw", "extension", "created_at", "domain"])
        await connection.execute("ANALYZE")
        elapsed = time.perf_counter() - started
        return elapsed, await prewarm(connection)
    finally:
        await connection.close()


async def lookup_plan(dsn: str, n: int) -> dict[str, object]:
    """EXPLAIN ANALYZE of the lookup's statement on the loaded data: which index it uses, and its time."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(f"EXPLAIN (ANALYZE, FORMAT JSON) {LOOKUP_SQL}", ["phone"], [phone(n // 2)])
    finally:
        await connection.close()
    plan = json.loads(rows[0][0])[0] if isinstance(rows[0][0], str) else rows[0][0][0]
    text = json.dumps(plan["Plan"])
    return {"uses_unique_index": "uq_identifiers_kind_value" in text, "seq_scan": "Seq Scan" in text,
            "execution_ms": plan["Execution Time"]}


async def prewarm(connection: asyncpg.Connection) -> bool:
    """Load the lookup's tables and indexes into PostgreSQL's buffers, as a running system has them.

    Without it the first thousands of lookups measure the disk right after the bulk load, not identity.
    Needs the pg_prewarm contrib extension; without it the figures say so (``prewarmed: false``).
    """
    try:
        await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
    except asyncpg.PostgresError:
        return False
    for relation in ("identifiers", "uq_identifiers_kind_value", "clients", "pk_clients"):
        await connection.execute("SELECT pg_prewarm($1)", relation)
    return True


# -- the service ------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def start_identity(database_url: str, prefix: str, token: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "IDENTITY_DATABASE_URL": database_url, "PRIYOM_BUS_PREFIX": prefix,
           "PRIYOM_ADMIN_TOKEN": token, "IDENTITY_PORT": str(port), "AMQP_URL": AMQP_URL, "LOG_LEVEL": "WARNING"}
    process = await asyncio.to_thread(subprocess.Popen, [sys.executable, "-m", "priyom_identity", "serve"],
                                      env=env, cwd=ROOT)
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            try:
                if (await client.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                    return process
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                raise SystemExit("identity exited at start")
            await asyncio.sleep(0.1)
    process.terminate()
    raise SystemExit("identity did not become healthy in 60 s")


# -- measurements -----------------------------------------------------------------------------------------


async def bus_lookups(rpc: RpcClient, queue: str, requests: list[ClientLookupRequest]) -> list[float]:
    latencies = []
    for request in requests:
        body = request.model_dump_json().encode()
        started = time.perf_counter()
        reply = await rpc.request(queue, body, timeout=10)
        latencies.append(time.perf_counter() - started)
        if not ClientLookupReply.model_validate_json(reply).found:
            raise SystemExit("a loaded person was not found over the bus")
    return latencies


async def faststream_lookups(queue: str, requests: list[ClientLookupRequest]) -> list[float]:
    broker = RabbitBroker(AMQP_URL, logger=None)
    await broker.connect()
    latencies = []
    try:
        for request in requests:
            started = time.perf_counter()
            reply = await broker.request(request.model_dump(mode="json"), queue=queue, timeout=10)
            latencies.append(time.perf_counter() - started)
            if not ClientLookupReply.model_validate_json(reply.body).found:
                raise SystemExit("a loaded person was not found over the bus")
    finally:
        await broker.stop()
    return latencies


async def http_lookups(client: httpx.AsyncClient, params: list[dict[str, str]]) -> list[float]:
    latencies = []
    for query in params:
        started = time.perf_counter()
        response = await client.get("/api/v1/clients/lookup", params=query)
        latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"HTTP lookup answered {response.status_code}")
    return latencies


async def import_rate(client: httpx.AsyncClient, rows: int, offset: int) -> float:
    lines = ["name,company,phones,emails,manager"]
    for i in range(rows):
        n = offset + i
        lines.append(f"Контакт {n},ООО Импорт {n},{phone(n)},import{n}@imp{n}.example.ru,Иванова")
    body = ("\n".join(lines) + "\n").encode()
    started = time.perf_counter()
    response = await client.post("/api/v1/clients/import", content=body, timeout=600,
                                 headers={"Content-Type": "text/csv"})
    elapsed = time.perf_counter() - started
    report = response.json()
    if response.status_code != 200 or report["cards_created"] != rows:
        raise SystemExit(f"import failed: {response.status_code} {str(report)[:300]}")
    return rows / elapsed


async def main(args: argparse.Namespace) -> dict[str, object]:
    load_at_start = os.getloadavg()[0]
    database_url = await create_pg_database()
    prefix = f"bench-{uuid.uuid4().hex[:8]}."
    process = None
    try:
        await asyncio.to_thread(migrate_database, database_url)
        dsn = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        load_s, prewarmed = await load(dsn, args.n, args.per_card)
        plan = await lookup_plan(dsn, args.n)
        token = secrets.token_urlsafe(16)
        port = free_port()
        process = await start_identity(database_url, prefix, token, port)
        rng = random.Random(7)
        sample = rng.sample(range(args.n), args.lookups * 2)
        by_phone, by_email = sample[: args.lookups], sample[args.lookups:]
        queue = Topology(prefix).identity_lookup_queue
        async with RpcClient(AMQP_URL) as rpc:
            await bus_lookups(rpc, queue, [ClientLookupRequest(phone=phone(args.n - 1))] * 50)  # warm up
            # Rounds of never-asked numbers: on a shared machine one round can land on someone else's burst.
            rounds = []
            unasked = sorted(set(range(args.n)) - set(sample))
            extra_sets = [rng.sample(unasked, args.lookups) for _ in range(args.rounds - 1)]
            cpu_before = cpu_seconds(process.pid)
            bus_phone_cold = await bus_lookups(rpc, queue, [ClientLookupRequest(phone=typed(i)) for i in by_phone])
            cpu_per_lookup_ms = (cpu_seconds(process.pid) - cpu_before) / len(by_phone) * 1000
            rounds.append(summary(bus_phone_cold))
            for numbers in extra_sets:
                rounds.append(summary(await bus_lookups(
                    rpc, queue, [ClientLookupRequest(phone=typed(i)) for i in numbers])))
            bus_email_cold = await bus_lookups(rpc, queue, [ClientLookupRequest(email=email(i)) for i in by_email])
            bus_phone_warm = await bus_lookups(rpc, queue, [ClientLookupRequest(phone=phone(i)) for i in by_phone])
        fresh = rng.sample(unasked, min(args.lookups, 500))
        faststream_cold = await faststream_lookups(queue, [ClientLookupRequest(phone=phone(i)) for i in fresh])
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as client:
            await http_lookups(client, [{"phone": phone(args.n - 1)}] * 50)
            http_phone = await http_lookups(client, [{"phone": phone(i)} for i in by_phone])
            http_email = await http_lookups(client, [{"email": email(i)} for i in by_email])
            cards_per_s = await import_rate(client, args.import_rows, offset=args.n)
        return {
            "bench": "identity", "persons": args.n, "cards": -(-args.n // args.per_card),
            "identifiers": 2 * args.n, "copy_load_s": round(load_s, 1),
            "copy_persons_per_s": round(args.n / load_s),
            "prewarmed": prewarmed, "lookup_plan": plan, "load_average_at_start": load_at_start,
            "bus_lookup_phone_uncached": summary(bus_phone_cold),
            "bus_lookup_phone_uncached_rounds": rounds,
            "bus_lookup_phone_uncached_best_p99_ms": min(r["p99_ms"] for r in rounds),
            "identity_cpu_ms_per_uncached_lookup": round(cpu_per_lookup_ms, 3),
            "bus_lookup_email_uncached": summary(bus_email_cold),
            "bus_lookup_phone_cached": summary(bus_phone_warm),
            "bus_lookup_phone_uncached_faststream_request": summary(faststream_cold),
            "http_lookup_phone": summary(http_phone), "http_lookup_email": summary(http_email),
            "csv_import_cards_per_s": round(cards_per_s, 1), "csv_import_rows": args.import_rows,
            "target_bus_p99_ms": 5.0, "load_average_at_end": os.getloadavg()[0],
        }
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        await delete_prefixed(AMQP_URL, prefix)
        await drop_pg_database(database_url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="persons to load (default 1,000,000)")
    parser.add_argument("--per-card", type=int, default=4, help="persons per company card")
    parser.add_argument("--lookups", type=int, default=2000, help="lookups per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of uncached phone lookups over the bus")
    parser.add_argument("--import-rows", type=int, default=5000, help="rows of the CSV import")
    print(json.dumps(asyncio.run(main(parser.parse_args())), ensure_ascii=False))
