"""Caller pop-ups at scale: from the ringing event to the pop-up on the agent's WebSocket, with N persons.

Creates two throwaway PostgreSQL databases (identity's and tickets'), loads ``--persons`` persons into
identity with ``bench/identity.py``'s COPY loader, gives tickets ``--tickets`` tickets (one message each)
spread over the clients that will call and others, starts identity and tickets as real processes on a
private bus prefix (``priyom_testing.stack``), makes ``--agents`` agents with extensions and opens one
WebSocket console per agent, then drives ``--rate`` calls per second for ``--seconds``: each call rings one
agent, is answered a second later and ends two seconds after that.

Calls come from the fake AMI server (``priyom_testing.ami_server``, the scripted events of a direct call
as chan_pjsip reports it) through a real intake-telephony process, which looks the caller up in identity and
publishes the call event. The clock starts when the server (in a process of its own, so the consoles'
reading cannot hold it up) has written ``DialBegin``, and stops when the pop-up arrives at the console. ``--via standin`` replaces the PBX and the bridge with
:class:`priyom_testing.calls.TelephonyStandIn` (lookup, then publish), to price the rest of the path alone. One
caller in ten is a number nobody knows. A tap on the bus splits the figure at the moment the ringing event
is there to consume, and tickets' CPU per call is read from /proc, in all and above what it spends idle (measured
for ten seconds with the consoles open before the calls).

For comparison it times a raw aio-pika path at the same rate: three confirmed, persistent hops in a row
(the lookup's request and reply, and the call event), no database, no validation; the first on a quorum
queue, as identity's lookup queue is (since 2026-12-06: it must answer while a cluster node is down).

Prints one JSON line; removes its databases, queues and processes.

    python bench/popup.py [--persons 1000000] [--rate 20] [--seconds 30] [--agents 20] [--tickets 200000]
                          [--via ami|standin]
"""

from __future__ import annotations

import sys
from pathlib import Path

# This folder first on sys.path would let bench/email.py shadow the standard library's email package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import multiprocessing as mp  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Mapping  # noqa: E402
from multiprocessing.connection import Connection  # noqa: E402

import aio_pika  # noqa: E402
import asyncpg  # noqa: E402
import httpx  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

from bench.identity import cpu_seconds, load, phone, summary  # noqa: E402
from bench.tickets import BULK_TICKETS, STATUSES, TYPES  # noqa: E402
from priyom_contracts import CallState  # noqa: E402
from priyom_identity.store import migrate_database as migrate_identity  # noqa: E402
from priyom_kit.pytest_plugin import create_pg_database, delete_prefixed, drop_pg_database  # noqa: E402
from priyom_testing.ami_server import FakeAmiServer  # noqa: E402
from priyom_testing.calls import TelephonyStandIn, bridge  # noqa: E402
from priyom_testing.scripted_pbx import ScriptedPbx  # noqa: E402
from priyom_testing.stack import Stack, stack_env  # noqa: E402
from priyom_tickets.store import DONE  # noqa: E402
from priyom_tickets.tables import migrate_database as migrate_tickets  # noqa: E402

AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
UNKNOWN_SHARE = 0.1


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


# -- data -------------------------------------------------------------------------------------------------


async def callers_and_clients(identity_url: str, persons: int, calls: int, rng: random.Random
                              ) -> tuple[list[str], list[uuid.UUID]]:
    """The numbers that will call (a tenth unknown) and the client ids of the known ones."""
    known = rng.sample(range(persons), min(persons, calls))
    numbers = [phone(i) if rng.random() > UNKNOWN_SHARE else phone(persons + 1000 + n)
               for n, i in enumerate(known)]
    connection = await asyncpg.connect(dsn(identity_url))
    try:
        rows = await connection.fetch("SELECT DISTINCT client_id FROM identifiers WHERE kind = 'phone' "
                                      "AND value = ANY($1::text[])", numbers)
    finally:
        await connection.close()
    return numbers, [r["client_id"] for r in rows]


async def load_tickets(tickets_url: str, total: int, callers: list[uuid.UUID], others: int,
                       rng: random.Random) -> float:
    """``total`` tickets over four fifths of the callers' clients (the rest are first contacts) and
    ``others`` made-up clients, statuses spread as bench/tickets.py spreads them; one message each."""
    clients = rng.sample(callers, len(callers) * 4 // 5) + [uuid.uuid4() for _ in range(others)]
    connection = await asyncpg.connect(dsn(tickets_url))
    try:
        started = time.perf_counter()
        await connection.execute(BULK_TICKETS, total, clients, TYPES, STATUSES, 0, len(clients))
        await connection.execute("""
            INSERT INTO ticket_messages (id, ticket_seq, direction, channel, body, created_at)
            SELECT gen_random_uuid(), seq, 'inbound', channel, 'прошу проверить отчёт', created_at
            FROM tickets WHERE routing_reason = 'bench'""")
        # A desk that has been running: what went late was marked so long ago. Left unmarked, the scheduler
        # marks them 500 a round during the calls, and that work (history, escalations) was counted as the
        # pop-ups' CPU and delayed them.
        await connection.execute("""
            UPDATE tickets SET overdue_at = now() - interval '1 hour'
            WHERE routing_reason = 'bench' AND status <> ALL($1::text[]) AND (resolution_due_at < now()
                  OR (first_responded_at IS NULL AND first_response_due_at < now()))""", list(DONE))
        await connection.execute("ANALYZE")
        return time.perf_counter() - started
    finally:
        await connection.close()


#: How long tickets is watched with its consoles open and no call, for the CPU it spends on its own.
IDLE_S = 10.0
#: How long ringing events alone are driven to price one pop-up in tickets' CPU.
POPUP_CPU_S = 30.0


async def idle_cpu(pid: int, seconds: float) -> float:
    """The CPU seconds per second a process spends with nothing to do (its periodic rounds, heartbeats, the
    queue-depth sampler): subtracted from the calls' window, what is left is what the calls cost."""
    before, since = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)
    return (cpu_seconds(pid) - before) / (time.monotonic() - since)


# -- the consoles -----------------------------------------------------------------------------------------


async def open_consoles(stack: Stack, agents: int) -> dict[str, ClientConnection]:
    consoles = {}
    async with httpx.AsyncClient(base_url=stack.url("tickets"), headers=stack.admin_headers, timeout=30) as api:
        for n in range(agents):
            extension = str(100 + n)
            response = await api.post("/api/v1/staff", json={"name": f"Агент {extension}", "role": "agent",
                                                             "teams": ["service"], "extension": extension})
            response.raise_for_status()
            url = await asyncio.to_thread(stack.console_url, extension, response.json()["token"])
            consoles[extension] = await connect(url)
    return consoles


async def read_console(console: ClientConnection, arrived: dict[str, float], counts: dict[str, int]) -> None:
    async for text in console:
        at = time.time()
        message = json.loads(text)
        counts[message["type"]] = counts.get(message["type"], 0) + 1
        if message["type"] == "incoming_call":
            arrived[message["call_id"]] = at
            # As the console does: confirm it was shown (tickets times ringing → shown by this).
            await console.send(json.dumps({"type": "popup_shown", "call_id": message["call_id"]}))
            counts["with_client"] = counts.get("with_client", 0) + (message["client"] is not None)
            counts["with_open_tickets"] = counts.get("with_open_tickets", 0) + bool(message["open_tickets"])


# -- driving calls ----------------------------------------------------------------------------------------


async def tap_ringing(prefix: str, on_bus: dict[str, float]) -> aio_pika.abc.AbstractConnection:
    """A private queue on the bus noting when each ringing event is there to consume: splits the path into
    before the bus (lookup and publish) and after it (tickets and the socket)."""
    connection = await aio_pika.connect(AMQP_URL)
    channel = await connection.channel()
    exchange = await channel.get_exchange(f"{prefix}priyom.bus")
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(exchange, routing_key="call.event.v1.*")

    async def noted(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        at = time.time()
        body = json.loads(message.body)
        if body["state"] == "ringing":
            on_bus[body["call_id"]] = at

    await queue.consume(noted, no_ack=True)
    return connection


async def drive(telephony: TelephonyStandIn, numbers: list[str], extensions: list[str], rate: float,
                seconds: float) -> tuple[dict[str, float], list[float]]:
    """Ring at ``rate`` calls per second on a fixed schedule (late calls do not slow the next ones)."""
    started: dict[str, float] = {}
    lookups: list[float] = []
    tasks = []

    async def call(n: int) -> None:
        call_id = f"{int(time.time())}.{n}"
        caller, extension = numbers[n % len(numbers)], extensions[n % len(extensions)]
        started[call_id] = time.time()  # the AMI event leaves the PBX
        client = await telephony.lookup(caller)
        lookups.append(time.time() - started[call_id])
        await telephony.publish(call_id, CallState.RINGING, caller, extension, caller_name=f"CALLER {n}",
                                client=client)
        await asyncio.sleep(1.0)
        await telephony.publish(call_id, CallState.ANSWERED, caller, extension)
        await asyncio.sleep(2.0)
        await telephony.publish(call_id, CallState.ENDED, caller, extension)

    begin = time.perf_counter()
    for n in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, begin + n / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(call(n)))
    await asyncio.gather(*tasks)
    return started, lookups


async def drive_ami(ami: FakeAmiServer, numbers: list[str], extensions: list[str], rate: float,
                    seconds: float) -> None:
    """Ring at ``rate`` calls per second through the fake PBX: each call's events up to the ringing phone,
    then its answer and hang-up 1.5 s later (the clock is the server's ``on_sent`` of ``DialBegin``)."""
    pbx = ScriptedPbx()
    tasks = []

    async def call(n: int) -> None:
        _, events = pbx.direct_call(numbers[n % len(numbers)], extensions[n % len(extensions)],
                                    caller_name=f"CALLER {n}")
        rings = next(i for i, e in enumerate(events) if e.get("DialStatus") == "RINGING") + 1
        await ami.send(events[:rings])
        await asyncio.sleep(1.5)
        await ami.send(events[rings:])

    begin = time.perf_counter()
    for n in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, begin + n / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(call(n)))
    await asyncio.gather(*tasks)


def pbx_process(connection: Connection, username: str, secret: str) -> None:
    """The PBX in a process of its own, so its clock is not held up by the consoles' reading (or the other
    way round). Commands over ``connection``: ``("drive", numbers, extensions, rate, seconds)`` answers with
    the ``DialBegin`` send times by Linkedid; ``None`` stops it."""

    async def main() -> None:
        sent_at: dict[str, float] = {}

        def sent(event: Mapping[str, str], at: float) -> None:
            if event.get("Event") == "DialBegin":
                sent_at[event["Linkedid"]] = at

        async with FakeAmiServer(username=username, secret=secret, on_sent=sent) as ami:
            connection.send(ami.port)
            await ami.wait_for_login(timeout=120)
            connection.send("logged in")
            while (command := await asyncio.to_thread(connection.recv)) is not None:
                sent_at.clear()
                await drive_ami(ami, *command[1:])
                await asyncio.sleep(0.5)
                connection.send(dict(sent_at))

    asyncio.run(main())


class RemotePbx:
    """The parent's handle on :func:`pbx_process`, shaped as :func:`priyom_testing.calls.bridge` reads a server."""

    username = "priyom"
    secret = "bench-secret"

    def __init__(self) -> None:
        self.connection, child = mp.get_context("spawn").Pipe()
        self.process = mp.get_context("spawn").Process(target=pbx_process, args=(child, self.username,
                                                                                   self.secret), daemon=True)
        self.process.start()
        self.port: int = self.connection.recv()

    async def wait_for_login(self, timeout: float = 60) -> None:
        if not await asyncio.to_thread(self.connection.poll, timeout):
            raise SystemExit("telephony did not log in to the fake AMI server")
        self.connection.recv()

    async def drive(self, numbers: list[str], extensions: list[str], rate: float, seconds: float
                    ) -> dict[str, float]:
        self.connection.send(("drive", numbers, extensions, rate, seconds))
        return await asyncio.to_thread(self.connection.recv)

    def stop(self) -> None:
        self.connection.send(None)
        self.process.join(timeout=30)


# -- raw aio-pika baseline --------------------------------------------------------------------------------


async def popup_cpu(telephony: TelephonyStandIn, numbers: list[str], extensions: list[str], rate: float,
                    count: int, tickets_pid: int, idle_per_s: float) -> float:
    """Tickets' CPU (ms, above idle) to build and push one pop-up: ``count`` ringing events alone at ``rate``,
    each to a console that confirms it, with no answer or hang-up inside the window (those come after it, to
    close the pop-ups). The callers are looked up before the window: that is intake-telephony's part."""
    clients = [await telephony.lookup(number) for number in numbers[:count]]
    call_ids = [f"cpu.{uuid.uuid4().hex[:12]}" for _ in range(count)]
    before, since = cpu_seconds(tickets_pid), time.monotonic()
    begin = time.perf_counter()
    for n, call_id in enumerate(call_ids):
        await asyncio.sleep(max(0.0, begin + n / rate - time.perf_counter()))
        await telephony.publish(call_id, CallState.RINGING, numbers[n], extensions[n % len(extensions)],
                                caller_name=f"CALLER {n}", client=clients[n])
    await asyncio.sleep(1.0)  # the last pop-ups shown and confirmed
    spent, window = cpu_seconds(tickets_pid) - before, time.monotonic() - since
    for n, call_id in enumerate(call_ids):
        await telephony.publish(call_id, CallState.ENDED, numbers[n], extensions[n % len(extensions)])
    return max(0.0, spent - idle_per_s * window) / count * 1000


async def shown_by_tickets(stack: Stack) -> dict[str, float]:
    """Ringing → shown as tickets records it (``priyom_popup_shown_seconds``: from the call event's time to the
    console's confirmation coming back), read from its /metrics: how many, and the share within each bound."""
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"{stack.url('tickets')}/metrics")).text
    buckets = {line.split('le="', 1)[1].split('"', 1)[0]: float(line.rsplit(" ", 1)[1])
               for line in text.splitlines() if line.startswith("priyom_popup_shown_seconds_bucket")}
    total = buckets.get("+Inf", 0.0)
    shares = {f"within_{float(le) * 1000:g}_ms": round(n / total, 4)
              for le, n in buckets.items() if le != "+Inf" and float(le) <= 0.1} if total else {}
    return {"n": total, **shares}


async def raw_baseline(rate: float, seconds: float, size: int) -> list[float]:
    """Three confirmed persistent hops in a row at ``rate`` per second, timed from the first publish to the
    last delivery: the broker's share of the pop-up path with none of Priyom's code."""
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    publisher = await aio_pika.connect(AMQP_URL)
    consumer = await aio_pika.connect(AMQP_URL)
    arrived: dict[str, float] = {}
    total = int(rate * seconds)
    done = asyncio.Event()
    try:
        out = await publisher.channel(publisher_confirms=True)
        into = await consumer.channel(publisher_confirms=True)
        exchange = await out.declare_exchange(f"{prefix}raw", aio_pika.ExchangeType.TOPIC, auto_delete=True)
        relay = await into.get_exchange(exchange.name)
        for hop in range(3):
            # The first hop is the lookup's request: on a quorum queue, as identity declares it (it must
            # answer while a cluster node is down); the others on exclusive classic queues, like the reply
            # (direct reply-to) and tickets' per-process fan-out of call events.
            queue = (await into.declare_queue(f"{prefix}lookup", durable=True, arguments={"x-queue-type": "quorum"})
                     if hop == 0 else await into.declare_queue(exclusive=True, auto_delete=True))
            await queue.bind(exchange, routing_key=f"hop.{hop}")

            async def handle(message: aio_pika.abc.AbstractIncomingMessage, hop: int = hop) -> None:
                body = json.loads(message.body)
                if hop == 2:
                    arrived[body["id"]] = time.perf_counter()
                    if len(arrived) == total:
                        done.set()
                    return
                await relay.publish(aio_pika.Message(json.dumps(body).encode(),
                                                     delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                                    routing_key=f"hop.{hop + 1}", mandatory=True)

            await queue.consume(handle, no_ack=True)
        started: dict[str, float] = {}
        padding = "x" * max(0, size - 60)
        begin = time.perf_counter()
        for n in range(total):
            await asyncio.sleep(max(0.0, begin + n / rate - time.perf_counter()))
            key = str(n)
            started[key] = time.perf_counter()
            await exchange.publish(aio_pika.Message(json.dumps({"id": key, "pad": padding}).encode(),
                                                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                                   routing_key="hop.0", mandatory=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 30)
        return [arrived[k] - t for k, t in started.items() if k in arrived]
    finally:
        await consumer.close()  # first: a queue deleted under its consumer is declared again by aio-pika
        with contextlib.suppress(Exception):
            await (await publisher.channel()).queue_delete(f"{prefix}lookup")
        await publisher.close()
        await delete_prefixed(AMQP_URL, prefix)


# -- main -------------------------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> dict[str, object]:
    rng = random.Random(11)
    calls = int(args.rate * args.seconds)
    identity_url, tickets_url = await create_pg_database(), await create_pg_database()
    prefix = f"bench-{uuid.uuid4().hex[:8]}."
    workdir = Path(tempfile.mkdtemp(prefix="popup-bench-"))
    env = stack_env(os.environ, workdir=workdir, prefix=prefix,
                    database_urls={"identity": identity_url, "tickets": tickets_url})
    env["LOG_LEVEL"] = "WARNING"
    stack = Stack(env=env, workdir=workdir)
    consoles: dict[str, ClientConnection] = {}
    try:
        await asyncio.to_thread(migrate_identity, identity_url)
        await asyncio.to_thread(migrate_tickets, tickets_url)
        load_s, prewarmed = await load(dsn(identity_url), args.persons, 4)
        numbers, caller_clients = await callers_and_clients(identity_url, args.persons, calls, rng)
        tickets_s = await load_tickets(tickets_url, args.tickets, caller_clients, args.other_clients, rng)
        await asyncio.to_thread(stack.start, ["identity", "tickets"])
        consoles = await open_consoles(stack, args.agents)
        arrived: dict[str, float] = {}
        counts: dict[str, int] = {}
        readers = [asyncio.create_task(read_console(c, arrived, counts)) for c in consoles.values()]
        on_bus: dict[str, float] = {}
        tap = await tap_ringing(prefix, on_bus)
        tickets_pid = stack.processes["tickets"].pid
        idle_cpu_per_s = await idle_cpu(tickets_pid, IDLE_S)
        lookups: list[float] = []
        if args.via == "standin":
            async with TelephonyStandIn(AMQP_URL, prefix) as telephony:
                for n in range(20):  # warm up: connections, prepared statements, caches of the first call
                    await telephony.ring(f"warm.{n}", numbers[-1 - n], next(iter(consoles)))
                await asyncio.sleep(1)
                arrived.clear()
                counts.clear()
                cpu_before, window_from = cpu_seconds(tickets_pid), time.monotonic()
                started, lookups = await drive(telephony, numbers, list(consoles), args.rate, args.seconds)
        else:
            pbx = RemotePbx()
            try:
                async with bridge(stack, pbx):  # type: ignore[arg-type]
                    await pbx.drive(numbers[-20:], list(consoles), 20, 1)  # warm up
                    await asyncio.sleep(2)
                    arrived.clear()
                    counts.clear()
                    cpu_before, window_from = cpu_seconds(tickets_pid), time.monotonic()
                    started = await pbx.drive(numbers, list(consoles), args.rate, args.seconds)
                    await asyncio.sleep(1)
            finally:
                pbx.stop()
        tickets_cpu_s, window_s = cpu_seconds(tickets_pid) - cpu_before, time.monotonic() - window_from
        tickets_cpu_ms = tickets_cpu_s / calls * 1000
        marginal_cpu_ms = max(0.0, tickets_cpu_s - idle_cpu_per_s * window_s) / calls * 1000
        counts = dict(counts)  # the calls' own: the pop-ups priced below are counted apart
        async with TelephonyStandIn(AMQP_URL, prefix) as telephony:
            per_popup_cpu_ms = await popup_cpu(telephony, numbers, list(consoles), args.rate,
                                               min(len(numbers), int(args.rate * POPUP_CPU_S)), tickets_pid,
                                               idle_cpu_per_s)
        await tap.close()
        latencies = [arrived[c] - t for c, t in started.items() if c in arrived]
        to_bus = [on_bus[c] - t for c, t in started.items() if c in on_bus]
        after_bus = [arrived[c] - on_bus[c] for c in started if c in arrived and c in on_bus]
        if not latencies:
            raise SystemExit(f"no pop-up arrived; tickets log:\n{stack.log('tickets')[-3000:]}")
        for reader in readers:
            reader.cancel()
        shown = await shown_by_tickets(stack)
        baseline = await raw_baseline(args.rate, args.seconds, 700)
        popup = summary(latencies)
        raw = summary(baseline)
        return {
            "bench": "popup", "persons": args.persons, "copy_load_s": round(load_s, 1), "prewarmed": prewarmed,
            "tickets": args.tickets, "tickets_load_s": round(tickets_s, 1), "agents": args.agents,
            "calls": calls, "rate_per_s": args.rate,
            "driven_by": {"ami": "fake AMI server -> intake-telephony process",
                          "standin": "TelephonyStandIn (lookup, then a published CallEvent)"}[args.via],
            "popups_received": len(latencies), "popups_missing": calls - len(latencies),
            "popups_with_client": counts.get("with_client", 0),
            "popups_with_open_tickets": counts.get("with_open_tickets", 0),
            "call_answered_received": counts.get("call_answered", 0),
            "call_ended_received": counts.get("call_ended", 0),
            "ringing_to_popup": popup,
            **({"of_which_identity_lookup": summary(lookups)} if lookups else {}),
            "tickets_cpu_ms_per_call": round(tickets_cpu_ms, 3),
            "tickets_idle_cpu_ms_per_s": round(idle_cpu_per_s * 1000, 2),
            "tickets_cpu_ms_per_call_above_idle": round(marginal_cpu_ms, 3),
            "tickets_cpu_ms_per_popup_above_idle": round(per_popup_cpu_ms, 3),
            "of_which_until_on_the_bus": summary(to_bus), "of_which_bus_to_console": summary(after_bus),
            "acknowledged_ringing_to_shown": shown,
            "raw_aio_pika_three_hops": raw,
            "p99_ratio_to_raw": round(popup["p99_ms"] / raw["p99_ms"], 2),
            "target_p99_ms": 50.0, "target_met": popup["p99_ms"] <= 50.0 and popup["p99_ms"] <= 5 * raw["p99_ms"],
            "load_average_at_end": os.getloadavg()[0],
        }
    finally:
        for console in consoles.values():
            await console.close()
        await asyncio.to_thread(stack.stop)
        await delete_prefixed(AMQP_URL, prefix)
        await drop_pg_database(identity_url)
        await drop_pg_database(tickets_url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000, help="persons in identity (default 1,000,000)")
    parser.add_argument("--tickets", type=int, default=200_000, help="tickets in tickets' database")
    parser.add_argument("--other-clients", type=int, default=20_000, help="clients with tickets who do not call")
    parser.add_argument("--rate", type=float, default=20.0, help="calls per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long calls are driven")
    parser.add_argument("--via", choices=["ami", "standin"], default="ami",
                        help="ring through the fake AMI server and a telephony process, or publish CallEvents")
    parser.add_argument("--agents", type=int, default=20, help="agents, each with a console and an extension")
    print(json.dumps(asyncio.run(main(parser.parse_args())), ensure_ascii=False))
