"""Idle memory of every service: RSS of each process after it has run idle a while.

Starts all services as processes on a private bus prefix and fresh databases (PostgreSQL, or SQLite
files), with their channels configured as in production, against the fake peers the chaos run uses: a
Telegram bot long-polling the fake Bot API, an AMI session on the fake PBX, a mail relay. After
``--idle`` seconds it reads each process's resident set (``VmRSS``) and its peak (``VmHWM``) from /proc,
and prints one JSON line (MB). The target is under 120 MB each.

    python bench/idle_memory.py [--idle 30] [--db postgresql|sqlite]
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
import os  # noqa: E402
import tempfile  # noqa: E402
import uuid  # noqa: E402

from priyom_kit.pytest_plugin import create_pg_database, delete_prefixed, drop_pg_database  # noqa: E402
from priyom_testing.ami_server import FakeAmiServer  # noqa: E402
from priyom_testing.chaos.mail_sink import mail_sink  # noqa: E402
from priyom_testing.chaos.run import peers_env  # noqa: E402
from priyom_testing.stack import MIGRATED, Stack, database_urls, stack_env  # noqa: E402
from priyom_testing.telegram_bot_api import FakeBotAPI  # noqa: E402

AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost:5672/")


def memory_mb(pid: int) -> dict[str, float]:
    """The process's resident set now and at its peak, in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {"rss": round(int(fields["VmRSS"].split()[0]) / 1024, 1),
            "peak": round(int(fields["VmHWM"].split()[0]) / 1024, 1)}


async def main(args: argparse.Namespace) -> dict[str, object]:
    prefix = f"mem{uuid.uuid4().hex[:8]}."
    workdir = Path(tempfile.mkdtemp(prefix="idle-memory-"))
    urls: dict[str, str] = {}
    if args.db == "postgresql":
        for service in MIGRATED:
            urls[service] = await create_pg_database("mem_")
    else:
        urls = database_urls("sqlite", workdir, lambda: "")
    try:
        async with FakeAmiServer() as ami, FakeBotAPI() as bot, mail_sink() as (relay_port, _):
            env = stack_env({**os.environ, "AMQP_URL": AMQP_URL}, workdir=workdir, prefix=prefix, database_urls=urls)
            env.update(peers_env(ami, bot, relay_port, "warning"))
            stack = Stack(env=env, workdir=workdir)
            try:
                await asyncio.to_thread(stack.migrate)
                await asyncio.to_thread(stack.start)
                await ami.wait_for_login(timeout=60)
                await asyncio.sleep(args.idle)
                memory = {service: memory_mb(process.pid) for service, process in sorted(stack.processes.items())}
            finally:
                await asyncio.to_thread(stack.stop)
    finally:
        await delete_prefixed(AMQP_URL, prefix)
        if args.db == "postgresql":
            for url in urls.values():
                await drop_pg_database(url)
    return {"bench": "idle_memory", "db": args.db, "idle_s": args.idle, "target_mb": 120,
            "rss_mb": {s: m["rss"] for s, m in memory.items()}, "peak_mb": {s: m["peak"] for s, m in memory.items()},
            "over_target": sorted(s for s, m in memory.items() if m["rss"] >= 120),
            "load_average_at_end": round(os.getloadavg()[0], 2)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--idle", type=float, default=30.0)
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
