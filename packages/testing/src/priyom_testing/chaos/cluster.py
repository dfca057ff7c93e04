"""The scale-out run (``make cluster``): every service at two replicas on a three-node RabbitMQ cluster, four
channels of customers, and the failures a cluster is for.

While the customers come (web form and SMTP to either replica, mail into an IMAP mailbox on Dovecot,
Telegram through the fake Bot API, calls from the fake PBX), at fixed moments:

* one RabbitMQ node is stopped (and started again later): the connections on it move to the other nodes
  (``AMQP_URL`` lists all three), the quorum queues elect new leaders. Measured: from the stop until a web
  contact sent right after it is in a ticket;
* the leader of each singleton job (the mailbox's reader, the PBX's AMI session, the bot's long poll) is
  killed with SIGKILL:
  measured, from the kill until the other replica's ``/health`` says it leads the job;
* one replica of each consumer (identity, the router, tickets, intake-web, intake-email) is killed and
  started again: the other replica goes on, the killed one's unacknowledged messages are delivered again.

Then every accepted contact must be in exactly one ticket and the dead-letter queue empty. The result::

    {"accepted", "with_ticket", "lost", "duplicates", "dead_letters", "node_stop_to_ticket_s",
     "leader_failover_s": {job: s}, "consumer_replicas_killed", "calls", "click_to_call_accepted",
     "lookups_timed_out", "seconds"}

``click_to_call_accepted``: of one click-to-call posted to each intake-telephony replica at the end, how
many were accepted (a standby's goes through the holder of the PBX's session). ``lookups_timed_out`` counts the identity lookups of ringing calls that found no answer in time (those pop-ups
showed the number without the card).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ..ami_server import FakeAmiServer
from ..dovecot import start_dovecot
from ..ports import free_port
from ..stack import SERVICES, Stack, replica, service_of, stack_env
from ..telegram_bot_api import FakeBotAPI
from .audit import dead_letters, inbound_messages, wait_for_tickets
from .customers import Ledger, TelegramUsers, mailbox, mta, token, web_form
from .mail_sink import mail_sink
from .pbx import ReplayingPbx
from .run import ChaosResult, Scratch, paced, peers_env

#: The jobs one replica runs for all (priyom_kit.leases), by the service that runs them; named as /health does.
SINGLETONS = {"intake-email": "intake-email/imap/", "intake-telephony": "intake-telephony/ami/",
              "intake-messenger": "intake-messenger/telegram/"}
#: Services whose replicas share the work (queues, HTTP, SMTP): one of each is killed.
CONSUMERS = ("identity", "router", "tickets", "intake-web", "intake-email")


@dataclass
class ClusterPlan:
    broker: Path  # scripts/cluster-broker.sh
    corpus: Path
    seconds: float = 240.0
    rates: dict[str, float] = field(default_factory=lambda: {"web": 1.2, "smtp": 0.8, "imap": 0.6,
                                                             "telegram": 1.2, "phone": 0.6})
    replicas: int = 2
    node_stopped: int = 2
    call_s: tuple[float, float] = (8.0, 20.0)
    settle_s: float = 300.0
    workdir: Path | None = None
    log_level: str = "WARNING"


class Cluster:
    """The broker script and the stack's replicas, with the clocks the run reports."""

    def __init__(self, plan: ClusterPlan, stack: Stack) -> None:
        self.plan = plan
        self.stack = stack
        self.log: list[str] = []
        self.failover: dict[str, float] = {}
        self.killed: list[str] = []

    def broker(self, *args: str) -> str:
        done = subprocess.run([str(self.plan.broker), *args], capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"cluster-broker.sh {' '.join(args)} failed: {done.stderr[-2000:]}")
        return done.stdout.strip()

    def note(self, text: str) -> None:
        self.log.append(f"{time.strftime('%H:%M:%S')} {text}")

    async def role(self, process: str, job_prefix: str) -> str | None:
        try:
            async with httpx.AsyncClient(timeout=2) as client:
                jobs = (await client.get(f"{self.stack.url(process)}/health")).json().get("jobs", {})
        except (httpx.HTTPError, ValueError):
            return None
        return next((role for job, role in jobs.items() if job.startswith(job_prefix)), None)

    async def kill_leader(self, service: str) -> None:
        """SIGKILL the replica leading ``service``'s job; time until another replica leads it."""
        prefix = SINGLETONS[service]
        processes = [replica(service, n) for n in range(1, self.plan.replicas + 1)]
        leaders = [p for p in processes if await self.role(p, prefix) == "leader"]
        if len(leaders) != 1:
            raise RuntimeError(f"{service}: {len(leaders)} leaders of {prefix}* before the kill")
        killed = leaders[0]
        await asyncio.to_thread(self.stack.kill, killed)
        began = time.monotonic()
        self.note(f"kill -9 {killed} (leader of {prefix}*)")
        while not any([await self.role(p, prefix) == "leader" for p in processes if p != killed]):
            if time.monotonic() - began > 120:
                raise RuntimeError(f"no replica of {service} took {prefix}* over in 120 s")
            await asyncio.sleep(0.1)
        self.failover[prefix.rstrip("/")] = round(time.monotonic() - began, 2)
        self.note(f"{prefix}* taken over in {self.failover[prefix.rstrip('/')]} s")
        await asyncio.to_thread(self.stack.start, [killed], 120)

    async def kill_consumers(self) -> None:
        for service in CONSUMERS:
            victim = replica(service, random.randint(1, self.plan.replicas))
            await asyncio.to_thread(self.stack.kill, victim)
            self.killed.append(victim)
            self.note(f"kill -9 {victim}")
        await asyncio.sleep(3.0)
        await asyncio.to_thread(self.stack.start, self.killed, 120)

    async def stop_node(self, web: list[str], run: str, ledger: Ledger, client: httpx.AsyncClient,
                        tickets_database: str) -> float:
        """Stop one node; send a web contact at once; seconds until it is in a ticket."""
        await asyncio.to_thread(self.broker, "stop-node", str(self.plan.node_stopped))
        began = time.monotonic()
        self.note(f"RabbitMQ node {self.plan.node_stopped} stopped")
        await web_form(web, run, 100_000, ledger, client)
        probe = token(run, "web", 100_000)
        while not any(probe in text for _, text in await inbound_messages(tickets_database)):
            if time.monotonic() - began > 300:
                raise RuntimeError("the contact sent after the node stopped never reached a ticket")
            await asyncio.sleep(0.5)
        return round(time.monotonic() - began, 2)


async def cluster_run(plan: ClusterPlan) -> ChaosResult:
    scratch = await Scratch.make("cluster", plan.workdir)
    run, workdir, prefix, urls = scratch.run, scratch.workdir, scratch.prefix, scratch.urls
    ledger = Ledger()
    processes = [replica(s, n) for s in SERVICES for n in range(1, plan.replicas + 1)]
    smtp_ports: dict[str, int] = {}
    for process in (p for p in processes if service_of(p) == "intake-email"):
        while (port := free_port()) in smtp_ports.values():
            pass
        smtp_ports[process] = port
    dovecot = await asyncio.to_thread(start_dovecot)
    user = f"support{run}"
    async with contextlib.AsyncExitStack() as stop_after:
        ami = await stop_after.enter_async_context(FakeAmiServer())
        bot = await stop_after.enter_async_context(FakeBotAPI())
        relay_port, _ = await stop_after.enter_async_context(mail_sink())
        stop_after.callback(dovecot.stop)
        stack = Stack(env={}, workdir=workdir)
        cluster = Cluster(plan, stack)
        amqp_urls = await asyncio.to_thread(cluster.broker, "urls")
        stack.env = stack_env({**os.environ, "AMQP_URL": amqp_urls}, workdir=workdir, prefix=prefix, database_urls=urls)
        stack.env.update(peers_env(ami, bot, relay_port, plan.log_level),
                         INTAKE_EMAIL_IMAP_MAILBOXES=json.dumps([dovecot.mailbox_config(user)]))
        stack.process_env = {p: {"INTAKE_EMAIL_SMTP_PORT": str(port)} for p, port in smtp_ports.items()}
        pbx = ReplayingPbx(ami, plan.corpus, run)
        telegram = TelegramUsers(bot, run)
        try:
            await asyncio.to_thread(stack.migrate)
            await asyncio.to_thread(stack.start, processes, 120)
            await ami.wait_for_login(timeout=60)
            web = [stack.url(p) for p in processes if service_of(p) == "intake-web"]
            began = time.monotonic()
            stop = asyncio.Event()
            async with httpx.AsyncClient() as client:
                async def scenario() -> float:
                    await asyncio.sleep(plan.seconds * 0.15)
                    node_stop_s = await cluster.stop_node(web, run, ledger, client, urls["tickets"])
                    await asyncio.sleep(max(0.0, began + plan.seconds * 0.35 - time.monotonic()))
                    for service in SINGLETONS:
                        await cluster.kill_leader(service)
                    await asyncio.sleep(max(0.0, began + plan.seconds * 0.55 - time.monotonic()))
                    await asyncio.to_thread(cluster.broker, "start-node", str(plan.node_stopped))
                    cluster.note(f"RabbitMQ node {plan.node_stopped} started again")
                    await asyncio.sleep(max(0.0, began + plan.seconds * 0.7 - time.monotonic()))
                    await cluster.kill_consumers()
                    return node_stop_s

                events = asyncio.create_task(scenario())
                await asyncio.gather(
                    paced(plan.rates.get("web", 0), plan.seconds, stop,
                          lambda n: web_form(web, run, n, ledger, client)),
                    paced(plan.rates.get("smtp", 0), plan.seconds, stop,
                          lambda n: mta(list(smtp_ports.values()), run, n, ledger)),
                    paced(plan.rates.get("imap", 0), plan.seconds, stop,
                          lambda n: mailbox(dovecot.port, user, dovecot.password, run, n, ledger)),
                    paced(plan.rates.get("telegram", 0), plan.seconds, stop, telegram.write),
                    paced(plan.rates.get("phone", 0), plan.seconds, stop,
                          lambda n: pbx.call(n, random.uniform(*plan.call_s))),
                )
                node_stop_s = await events
                # Click-to-call on every replica: the standby's goes through the holder of the PBX's session.
                dialled = [(await client.post(f"{stack.url(p)}/api/v1/calls", headers=stack.admin_headers,
                                              json={"extension": "101", "number": "+79161234567"},
                                              timeout=15)).status_code
                           for p in processes if service_of(p) == "intake-telephony"]
            accepted = [*ledger.accepted, *telegram.confirmed(), *pbx.ended()]
            findings = await wait_for_tickets(accepted, urls["tickets"], run, plan.settle_s)
            dead = await dead_letters(amqp_urls.split(",")[0], prefix, urls["tickets"])
            seconds = round(time.monotonic() - began, 1)
            # Calls that popped up without the caller's card (identity's answer did not come in time).
            no_card = sum(stack.log(p).count("identity lookup timed out") for p in processes
                          if service_of(p) == "intake-telephony")
        finally:
            await asyncio.to_thread(stack.stop)
            await asyncio.to_thread(cluster.broker, "start-node", str(plan.node_stopped))
    kept = await scratch.clear(amqp_urls.split(",")[0], clean=not (findings.lost or findings.duplicates or dead))
    line: dict[str, Any] = {
        "accepted": len(accepted), "with_ticket": findings.with_ticket, "lost": len(findings.lost),
        "duplicates": findings.duplicates, "dead_letters": dead, "replicas": plan.replicas,
        "rabbitmq_nodes": 3, "node_stop_to_ticket_s": node_stop_s, "leader_failover_s": cluster.failover,
        "consumer_replicas_killed": cluster.killed, "calls": len(pbx.ended()),
        "click_to_call_accepted": dialled.count(202),
        "lookups_timed_out": no_card, "seconds": seconds}
    log = [*cluster.log, *kept,
           f"client attempts {ledger.attempts}, given up {ledger.refused}"]
    return ChaosResult(line, [f"{c.channel} {c.token}" for c in findings.lost], log, workdir)
