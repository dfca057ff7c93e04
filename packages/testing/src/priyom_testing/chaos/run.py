"""The chaos run: the seven services on PostgreSQL, four channels of customers, the monkey, the audit.

``await chaos(ChaosPlan(...))`` returns the one-line result::

    {"accepted", "with_ticket", "lost", "duplicates", "dead_letters", "kills", "broker_restarts", "seconds"}

plus, for reading a failure, what was lost and the monkey's log (kept out of the JSON line by the caller).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from priyom_kit.pytest_plugin import create_pg_database, delete_prefixed, drop_pg_database

from ..ami_server import FakeAmiServer
from ..stack import MIGRATED, SERVICES, Stack, stack_env
from ..telegram_bot_api import FakeBotAPI
from .audit import dead_letters, wait_for_tickets
from .customers import Ledger, TelegramUsers, mta, web_form
from .mail_sink import mail_sink
from .monkey import Monkey
from .pbx import ReplayingPbx


@dataclass
class ChaosPlan:
    amqp_url: str
    corpus: Path
    seconds: float = 300.0
    #: Contacts per second, per channel: web form, SMTP, Telegram, calls.
    rates: dict[str, float] = field(default_factory=lambda: {"web": 1.2, "smtp": 1.0, "telegram": 1.0,
                                                             "phone": 0.6})
    broker_restart: str | None = None
    broker_restarts: int = 2
    #: How long a call lasts, from its first event to its last: real calls last minutes, and a call much
    #: shorter than a restart of intake-telephony would mostly happen in the dark.
    call_s: tuple[float, float] = (8.0, 20.0)
    kill_every_s: tuple[float, float] = (6.0, 12.0)
    settle_s: float = 240.0
    workdir: Path | None = None
    #: The services the monkey kills: every one a contact passes through (the portal, which no contact
    #: passes through, is left alone, so every kill tests the pipeline).
    victims: tuple[str, ...] = tuple(s for s in SERVICES if s != "portal")
    log_level: str = "WARNING"


@dataclass
class ChaosResult:
    line: dict[str, Any]
    lost: list[str]
    log: list[str]
    workdir: Path

    def report(self) -> bool:
        """The run's log, what was lost and where the logs are on stderr, the JSON line on stdout; whether
        nothing was lost, duplicated or dead-lettered."""
        for line in self.log:
            print(line, file=sys.stderr)
        for lost in self.lost[:50]:
            print(f"lost: {lost}", file=sys.stderr)
        print(f"logs: {self.workdir}", file=sys.stderr)
        print(json.dumps(self.line))
        return not (self.line["lost"] or self.line["duplicates"] or self.line["dead_letters"])


@dataclass
class Scratch:
    """What one run makes for itself: its id (in every customer's token), a working directory (the services'
    logs), a bus prefix and a database per service. Removed after a clean run; kept for reading otherwise."""

    run: str
    workdir: Path
    prefix: str
    urls: dict[str, str]

    @classmethod
    async def make(cls, kind: str, workdir: Path | None) -> Scratch:
        run = uuid.uuid4().hex[:8]
        return cls(run, workdir or Path(tempfile.mkdtemp(prefix=f"{kind}-")), f"{kind}{run}.",
                   {service: await create_pg_database(f"{kind}_") for service in MIGRATED})

    async def clear(self, amqp_url: str, clean: bool) -> list[str]:
        """Remove the bus prefix and the databases of a clean run; of another, the log line saying where
        they are (the logs stay in ``workdir`` either way)."""
        if not clean:
            return [f"kept for reading: bus prefix {self.prefix}, databases {self.urls}"]
        await delete_prefixed(amqp_url, self.prefix)
        for url in self.urls.values():
            await drop_pg_database(url)
        return []


def peers_env(ami: FakeAmiServer, bot: FakeBotAPI, relay_port: int, log_level: str) -> dict[str, str]:
    """The services' settings for the fake PBX, the fake Bot API and the mail relay sink, quick to reconnect."""
    return dict(AMI_HOST="127.0.0.1", AMI_PORT=str(ami.port), AMI_USERNAME=ami.username,
                AMI_SECRET=ami.secret, INTAKE_TELEPHONY_RECONNECT_MIN_S="0.5",
                INTAKE_TELEPHONY_RECONNECT_MAX_S="2", INTAKE_TELEPHONY_PING_INTERVAL_S="2",
                TELEGRAM_BOT_TOKEN=bot.token, TELEGRAM_API_BASE=bot.base_url, TELEGRAM_MODE="polling",
                INTAKE_MESSENGER_TELEGRAM_POLL_TIMEOUT_S="1", INTAKE_EMAIL_RELAY_HOST="127.0.0.1",
                INTAKE_EMAIL_RELAY_PORT=str(relay_port), INTAKE_EMAIL_RELAY_STARTTLS="false",
                LOG_LEVEL=log_level)


async def paced(rate: float, seconds: float, stop: asyncio.Event,
                one: Callable[[int], Awaitable[None]]) -> None:
    """Start ``one(n)`` ``rate`` times a second for ``seconds`` (each in its own task), then wait for all."""
    tasks: list[asyncio.Task[None]] = []
    if rate <= 0:
        return
    started = time.monotonic()
    n = 0
    while time.monotonic() - started < seconds and not stop.is_set():
        tasks.append(asyncio.create_task(one(n)))
        n += 1
        await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
    await asyncio.gather(*tasks)


async def chaos(plan: ChaosPlan) -> ChaosResult:
    scratch = await Scratch.make("chaos", plan.workdir)
    run, workdir, prefix, urls = scratch.run, scratch.workdir, scratch.prefix, scratch.urls
    ledger = Ledger()
    async with FakeAmiServer() as ami, FakeBotAPI() as bot, mail_sink() as (relay_port, _):
        env = stack_env({**os.environ, "AMQP_URL": plan.amqp_url}, workdir=workdir, prefix=prefix, database_urls=urls)
        env.update(peers_env(ami, bot, relay_port, plan.log_level))
        stack = Stack(env=env, workdir=workdir)
        monkey = Monkey(stack, plan.broker_restart, plan.victims, every_s=plan.kill_every_s)
        pbx = ReplayingPbx(ami, plan.corpus, run)
        telegram = TelegramUsers(bot, run)
        try:
            await asyncio.to_thread(stack.migrate)
            await asyncio.to_thread(stack.start)
            await ami.wait_for_login(timeout=60)
            began = time.monotonic()
            stop = asyncio.Event()
            async with httpx.AsyncClient() as client:
                moments = [plan.seconds * (i + 1) / (plan.broker_restarts + 1) for i in range(plan.broker_restarts)]
                broker = asyncio.create_task(monkey.restart_broker_at(moments, began))
                kills = asyncio.create_task(monkey.kill_until(stop))
                web, smtp = stack.url("intake-web"), int(env["INTAKE_EMAIL_SMTP_PORT"])
                await asyncio.gather(
                    paced(plan.rates.get("web", 0), plan.seconds, stop,
                          lambda n: web_form(web, run, n, ledger, client)),
                    paced(plan.rates.get("smtp", 0), plan.seconds, stop, lambda n: mta(smtp, run, n, ledger)),
                    paced(plan.rates.get("telegram", 0), plan.seconds, stop, telegram.write),
                    paced(plan.rates.get("phone", 0), plan.seconds, stop,
                          lambda n: pbx.call(n, random.uniform(*plan.call_s))),
                )
                stop.set()
                await kills
                await broker
            await settle(stack, monkey, bot)
            accepted = [*ledger.accepted, *telegram.confirmed(), *pbx.ended()]
            findings = await wait_for_tickets(accepted, urls["tickets"], run, plan.settle_s)
            dead = await dead_letters(plan.amqp_url, prefix, urls["tickets"])
            seconds = round(time.monotonic() - began, 1)
        finally:
            await asyncio.to_thread(stack.stop)
    kept = await scratch.clear(plan.amqp_url, clean=not (findings.lost or findings.duplicates or dead))
    line = {"accepted": len(accepted), "with_ticket": findings.with_ticket, "lost": len(findings.lost),
            "duplicates": findings.duplicates, "dead_letters": dead, "kills": monkey.kills,
            "broker_restarts": monkey.broker_restarts, "seconds": seconds}
    log = [*monkey.log, *kept, f"calls the gateway could not know of (began and ended with no client): {pbx.unseen()}",
           f"client attempts {ledger.attempts}, given up {ledger.refused}"]
    return ChaosResult(line, [f"{c.channel} {c.token}" for c in findings.lost], log, workdir)


async def settle(stack: Stack, monkey: Monkey, bot: FakeBotAPI, timeout_s: float = 180.0) -> None:
    """Every service running again, and Telegram's queue of updates confirmed to the last one."""
    for service in SERVICES:
        if service not in stack.processes or stack.processes[service].poll() is not None:
            monkey.kill(service)
            await monkey.start(service)
    deadline = time.monotonic() + timeout_s
    while bot.pending() and time.monotonic() < deadline:  # noqa: ASYNC110 - the fake has no event for it
        await asyncio.sleep(0.5)
