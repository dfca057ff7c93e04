"""The website chat under load: idle visitor WebSockets one intake-messenger process holds, and the time from
a visitor's message to its ticket, which is what the agent's console lists.

Starts identity, router, tickets and intake-messenger as real processes on SQLite and a private bus prefix
(``priyom_testing.stack``), then

1. opens ``--idle`` visitor sockets (each says hello and gets its welcome, as the widget does on a page load)
   and holds them ``--hold`` seconds; then every one is pinged, and those that answer are counted alive; the
   messenger's resident memory is read from /proc;
2. sends ``--messages`` first messages of new visitors, ``--rate`` per second: the clock starts when the
   frame is written and stops at the acknowledgement (published, with the broker's confirm) and at the
   ``ticket.created`` event tickets announces once the ticket is stored (a tap on the bus).

Prints one JSON line; removes its queues and processes.

    python bench/chat.py [--idle 2000] [--hold 30] [--messages 200] [--rate 10]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

import aio_pika  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

from bench.identity import summary  # noqa: E402
from priyom_contracts import ContactReceived, TicketCreated, Topology  # noqa: E402
from priyom_kit.pytest_plugin import delete_prefixed  # noqa: E402
from priyom_testing.stack import Stack, stack_env  # noqa: E402

ORIGIN = "http://bench.localhost"
SERVICES = ("identity", "router", "tickets", "intake-messenger")


def raise_open_files() -> int:
    """Lift this process's (and so its children's) open-file limit to the hard limit: each socket is a file."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def visit(url: str) -> ClientConnection:
    """A page load: the socket opened, hello said, the welcome read."""
    socket = await connect(url, origin=ORIGIN, max_size=2**20, ping_interval=None)  # type: ignore[arg-type]
    await socket.send(json.dumps({"type": "hello", "token": None, "lang": "ru"}))
    welcome = json.loads(await socket.recv())
    assert welcome["type"] == "welcome", welcome
    return socket


async def idle_phase(url: str, count: int, hold_s: float, pid: int) -> dict[str, object]:
    before = rss_mb(pid)
    started = time.perf_counter()
    sockets: list[ClientConnection] = []
    limit = asyncio.Semaphore(50)

    async def one() -> None:
        async with limit:
            sockets.append(await visit(url))

    results = await asyncio.gather(*(one() for _ in range(count)), return_exceptions=True)
    opened_s = time.perf_counter() - started
    failures = sorted({type(r).__name__ for r in results if isinstance(r, BaseException)})
    await asyncio.sleep(hold_s)
    memory = rss_mb(pid)

    async def alive(socket: ClientConnection) -> bool:
        try:
            await socket.send(json.dumps({"type": "ping"}))
            return json.loads(await asyncio.wait_for(socket.recv(), 30))["type"] == "pong"
        except Exception:  # noqa: BLE001 - a dead socket is what is being counted
            return False

    answered = await asyncio.gather(*(alive(s) for s in sockets))
    await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)
    return {
        "target": count,
        "opened": len(sockets),
        "open_s": round(opened_s, 2),
        "failures": failures,
        "alive_after_hold": sum(answered),
        "hold_s": hold_s,
        "messenger_rss_mb_before": before,
        "messenger_rss_mb": memory,
        "rss_kb_per_socket": round((memory - before) * 1024 / max(1, len(sockets)), 1),
    }


async def message_phase(url: str, amqp_url: str, prefix: str, count: int, rate: float) -> dict[str, object]:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(Topology(prefix).exchange)
        tap = await channel.declare_queue(exclusive=True, auto_delete=True)
        await tap.bind(exchange, routing_key="contact.received.v1.chat")
        await tap.bind(exchange, routing_key="ticket.created.v1.chat")
        sent_at: dict[str, float] = {}  # browser message id -> when it was written
        contact_of: dict[str, str] = {}  # contact id -> browser message id
        to_ticket: list[float] = []
        acks: list[float] = []
        all_seen = asyncio.Event()

        async def on_event(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            now = time.perf_counter()
            body = json.loads(message.body)
            if message.routing_key and message.routing_key.startswith("contact.received"):
                event = ContactReceived.model_validate(body)
                contact_of[str(event.contact.contact_id)] = event.idempotency_key.rsplit(":", 1)[1]
            else:
                created = TicketCreated.model_validate(body)
                browser_id = contact_of.get(str(created.contact_id))
                if browser_id in sent_at:
                    to_ticket.append(now - sent_at[browser_id])
                    if len(to_ticket) == count:
                        all_seen.set()
            await message.ack()

        await tap.consume(on_event)

        async def one(delay: float) -> None:
            await asyncio.sleep(delay)
            socket = await visit(url)
            frame_id = uuid.uuid4().hex
            sent_at[frame_id] = time.perf_counter()
            await socket.send(
                json.dumps(
                    {
                        "type": "profile",
                        "name": "Нагрузочный тест",
                        "email": f"bench.{frame_id[:10]}@example.ru",
                        "consent": True,
                    }
                )
            )
            await socket.send(json.dumps({"type": "message", "id": frame_id, "text": "Не проходит оплата"}))
            answer = json.loads(await asyncio.wait_for(socket.recv(), 60))
            assert answer == {"type": "ack", "id": frame_id}, answer
            acks.append(time.perf_counter() - sent_at[frame_id])
            await socket.close()

        started = time.perf_counter()
        await asyncio.gather(*(one(i / rate) for i in range(count)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_seen.wait(), 120)
        return {
            "messages": count,
            "rate_per_s": rate,
            "seconds": round(time.perf_counter() - started, 1),
            "tickets_seen": len(to_ticket),
            "ack": summary(acks),
            "visitor_to_ticket": summary(to_ticket) if to_ticket else None,
        }


async def run(args: argparse.Namespace) -> dict[str, object]:
    files = raise_open_files()
    workdir = Path(tempfile.mkdtemp(prefix="priyom-chat-bench-"))
    prefix = f"benchchat{uuid.uuid4().hex[:8]}."
    env = stack_env(
        os.environ,
        workdir=workdir,
        prefix=prefix)
    env.update(
        INTAKE_MESSENGER_CHAT_SITES=json.dumps({"bench": [ORIGIN]}),
        INTAKE_MESSENGER_CHAT_RATE_PER_IP="1000000/minute",
        INTAKE_MESSENGER_CHAT_RATE_PER_VISITOR="100/minute",
        INTAKE_MESSENGER_CHAT_MAX_CONNECTIONS=str(args.idle + 1000),
        LOG_LEVEL="WARNING",
    )
    stack = Stack(env=env, workdir=workdir)
    amqp_url = env.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    try:
        await asyncio.to_thread(stack.migrate)
        await asyncio.to_thread(stack.start, SERVICES)
        url = stack.url("intake-messenger").replace("http", "ws", 1) + "/chat/ws?site=bench"
        pid = stack.processes["intake-messenger"].pid
        idle = await idle_phase(url, args.idle, args.hold, pid)
        messages = await message_phase(url, amqp_url, prefix, args.messages, args.rate)
    finally:
        stack.stop()
        await delete_prefixed(amqp_url, prefix)
    return {
        "bench": "chat",
        "open_files_limit": files,
        "idle_sockets": idle,
        "latency": messages,
        "cpus": os.cpu_count(),
        "load_1m": round(os.getloadavg()[0], 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--idle", type=int, default=2000, help="idle visitor sockets to open and hold")
    parser.add_argument("--hold", type=float, default=30.0, help="seconds to hold them before pinging each")
    parser.add_argument("--messages", type=int, default=200, help="first messages of new visitors to time")
    parser.add_argument("--rate", type=float, default=10.0, help="messages per second")
    print(json.dumps(asyncio.run(run(parser.parse_args())), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
