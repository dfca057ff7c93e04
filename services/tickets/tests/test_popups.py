"""Caller pop-ups end to end inside tickets: CallEvents on the real bus, consoles on a real server socket.

The service runs under uvicorn on a free port (the same server it runs under in production) and the
consoles are ``websockets`` clients, so authentication, close codes and fan-out are what a browser meets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn
from sqlalchemy import select, update
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from priyom_contracts import CallEvent, CallState, ClientMatch, MatchKind, utcnow
from priyom_kit import ServiceParts
from priyom_kit.db import Database
from priyom_tickets import tables, ws_tickets
from priyom_tickets.agent_socket import ACK_WAIT_S, MAX_CONSOLES_PER_EXTENSION
from priyom_tickets.app import build, create_app
from priyom_tickets.arrivals import register_contact
from priyom_tickets.notifications import outbound_channels
from priyom_tickets.policy import Policy
from priyom_tickets.settings import TicketsSettings

ADMIN = "popup-test-admin-token"
PINNED_KEYS = {"type", "call_id", "caller_number", "caller_name", "client", "first_contact", "open_tickets",
               "last_contacts"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    parts: ServiceParts
    port: int

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/agent"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@asynccontextmanager
async def serve(url: str, prefix: str, amqp_url: str) -> AsyncIterator[Server]:
    """One tickets process: the real app under uvicorn, in this test's event loop."""
    settings = TicketsSettings(TICKETS_DATABASE_URL=url, PRIYOM_BUS_PREFIX=prefix, AMQP_URL=amqp_url,
                               PRIYOM_ADMIN_TOKEN=ADMIN, timezone="UTC")
    parts = build(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(parts), host="127.0.0.1", port=port, lifespan="on",
                                           log_config=None, access_log=False))
    task = asyncio.create_task(server.serve())
    for _ in range(300):
        if server.started or task.done():
            break
        await asyncio.sleep(0.05)
    assert server.started, "tickets did not start"
    try:
        yield Server(parts, port)
    finally:
        server.should_exit = True
        await task


@dataclass
class Desk:
    """A running tickets process with two agents on extensions 101 and 102."""

    server: Server
    database: Database
    tokens: dict[str, str]
    register: Callable[..., Awaitable[str]]

    async def url(self, extension: str, token: str, server: Server | None = None) -> str:
        """The socket's URL with a fresh one-time ticket issued to ``token``'s holder (as the console asks)."""
        server = server or self.server
        async with httpx.AsyncClient(base_url=server.http) as http:
            issued = await http.post("/api/v1/ws-tickets", headers={"Authorization": f"Bearer {token}"})
        assert issued.status_code == 201, issued.text
        assert issued.json()["expires_in"] == 60
        return f"{server.ws}?extension={extension}&ticket={issued.json()['ticket']}"

    async def ring(self, call_id: str, agent: str, *, caller: str = "+79161234567", state: CallState =
                   CallState.RINGING, client: ClientMatch | None = None, caller_name: str | None = None) -> None:
        await self.server.parts.bus.publish(CallEvent(
            correlation_id=uuid.uuid4(), channel="phone", idempotency_key=f"pbx:{call_id}:{state}:{agent}",
            call_id=call_id, state=state, caller=caller, caller_name=caller_name, agent=agent, client=client))


async def receive(console: ClientConnection, timeout: float = 15) -> dict:
    return json.loads(await asyncio.wait_for(console.recv(), timeout))


@pytest.fixture
async def desk(migrated_url: str, cleanup_bus: str, amqp_url: str, database: Database, inbox, make_routed
               ) -> AsyncIterator[Desk]:
    async with serve(migrated_url, cleanup_bus, amqp_url) as server, httpx.AsyncClient(
            base_url=server.http, headers={"Authorization": f"Bearer {ADMIN}"}) as admin:
        tokens = {}
        for name, extension in (("Иванова", "101"), ("Петров", "102")):
            response = await admin.post("/api/v1/staff", json={"name": name, "role": "agent",
                                                               "teams": ["service"], "extension": extension})
            assert response.status_code == 201, response.text
            tokens[extension] = response.json()["token"]

        policy = Policy(zone=ZoneInfo("UTC"), outbound_channels=outbound_channels(server.parts.bus.topology))

        async def register(client_id: uuid.UUID, subject: str) -> str:
            created, _ = await register_contact(database.sessions, inbox,
                                                make_routed(client_id=client_id, subject=subject,
                                                            first_contact=False), policy)
            return created.number

        yield Desk(server, database, tokens, register)


def known(client_id: uuid.UUID) -> ClientMatch:
    return ClientMatch(client_id=client_id, display_name="Анна Петрова", first_contact=False,
                       match=MatchKind.EXACT_PHONE, account_manager="Сидоров", sla_tier="gold",
                       organisation="ООО Ромашка")


async def test_known_caller_pops_up_with_open_tickets_and_last_contacts(desk: Desk) -> None:
    client_id = uuid.uuid4()
    first = await desk.register(client_id, "Не печатает принтер")
    second = await desk.register(client_id, "Счёт за ноябрь")
    closed = await desk.register(client_id, "Старая заявка")
    async with desk.database.sessions() as session:
        await session.execute(update(tables.tickets).where(tables.tickets.c.number == closed)
                              .values(status="closed"))
        await session.commit()

    async with connect(await desk.url("101", desk.tokens["101"])) as console:
        await desk.ring("1700000000.1", "101", client=known(client_id), caller_name='Anna "Office" <ext 5>')
        popup = await receive(console)

    assert set(popup) == PINNED_KEYS
    assert popup["type"] == "incoming_call" and popup["call_id"] == "1700000000.1"
    assert popup["caller_number"] == "+79161234567"
    assert popup["caller_name"] == 'Anna "Office" <ext 5>'
    assert popup["client"] == {"id": str(client_id), "name": "Анна Петрова", "organisation": "ООО Ромашка",
                               "account_manager": "Сидоров", "sla_tier": "gold"}
    assert popup["first_contact"] is False
    assert [t["number"] for t in popup["open_tickets"]] == [second, first]  # newest first, the closed one not
    assert popup["open_tickets"][0] == {"number": second, "status": "new", "subject": "Счёт за ноябрь"}
    assert {c["ticket_number"] for c in popup["last_contacts"]} == {first, second, closed}
    assert all(c["direction"] == "inbound" and c["channel"] == "web" for c in popup["last_contacts"])


async def test_unknown_number_pops_up_as_a_new_caller(desk: Desk) -> None:
    async with connect(await desk.url("101", desk.tokens["101"])) as console:
        await desk.ring("1700000000.2", "101", caller="200", caller_name="Reception")
        popup = await receive(console)
    assert popup == {"type": "incoming_call", "call_id": "1700000000.2", "caller_number": "200",
                     "caller_name": "Reception", "client": None, "first_contact": True, "open_tickets": [],
                     "last_contacts": []}
    async with httpx.AsyncClient(base_url=desk.server.http) as client:
        for _ in range(50):  # the server notices the closed console a moment after the client is gone
            metrics = (await client.get("/metrics")).text
            if "priyom_agent_consoles 0.0" in metrics:
                break
            await asyncio.sleep(0.1)
    assert "priyom_popup_delay_seconds_count 1.0" in metrics
    assert "priyom_agent_consoles 0.0" in metrics


async def test_known_client_without_tickets_is_a_first_contact(desk: Desk) -> None:
    client_id = uuid.uuid4()
    async with connect(await desk.url("101", desk.tokens["101"])) as console:
        await desk.ring("1700000000.3", "101", client=known(client_id))
        popup = await receive(console)
    assert popup["client"]["id"] == str(client_id)
    assert popup["first_contact"] is True and popup["open_tickets"] == [] and popup["last_contacts"] == []


async def test_answer_and_hang_up_close_every_pop_up_of_the_call(desk: Desk) -> None:
    admin_url = await desk.url("102", ADMIN)  # the admin token opens any extension
    async with connect(await desk.url("101", desk.tokens["101"])) as first, connect(admin_url) as second:
        # A queue rings both phones; the second agent answers, then the caller hangs up.
        await desk.ring("1700000000.4", "101")
        await desk.ring("1700000000.4", "102")
        assert (await receive(first))["type"] == "incoming_call"
        assert (await receive(second))["type"] == "incoming_call"
        await desk.ring("1700000000.4", "102", state=CallState.ANSWERED)
        assert await receive(first) == {"type": "call_answered", "call_id": "1700000000.4"}
        assert await receive(second) == {"type": "call_answered", "call_id": "1700000000.4"}
        await desk.ring("1700000000.4", "102", state=CallState.ENDED)
        assert await receive(first) == {"type": "call_ended", "call_id": "1700000000.4"}
        assert await receive(second) == {"type": "call_ended", "call_id": "1700000000.4"}


async def test_a_missed_call_closes_every_pop_up_it_made(desk: Desk) -> None:
    """Missed is how a call nobody answered ends (telephony names the last extension it rang, or none)."""
    async with connect(await desk.url("101", desk.tokens["101"])) as first, connect(
            await desk.url("102", desk.tokens["102"])) as second:
        await desk.ring("1700000000.5", "101")
        await desk.ring("1700000000.5", "102")
        await receive(first)
        await receive(second)
        await desk.ring("1700000000.5", "102", state=CallState.MISSED)
        assert await receive(first) == {"type": "call_ended", "call_id": "1700000000.5"}
        assert await receive(second) == {"type": "call_ended", "call_id": "1700000000.5"}
        await desk.ring("1700000000.6", "102")  # a barrier: nothing else came before the next call
        assert (await receive(second))["call_id"] == "1700000000.6"


async def test_bad_tickets_tokens_in_urls_and_another_agent_s_ticket_are_refused(desk: Desk) -> None:
    used = await desk.url("101", desk.tokens["101"])
    async with connect(used):
        pass
    cases = [(f"{desk.server.ws}?extension=101&ticket=not-a-ticket", 4401), (f"{desk.server.ws}?extension=101", 4401),
             (used, 4401),  # one-time: redeemed already
             # A long-lived token in the URL is refused even when it is valid: URLs end up in logs.
             (f"{desk.server.ws}?extension=101&token={desk.tokens['101']}", 4401),
             (await desk.url("102", desk.tokens["101"]), 4403), (await desk.url("../x", desk.tokens["101"]), 4403)]
    for url, code in cases:
        async with connect(url) as console:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(console.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == code, url
    # A refused console was never registered: a ring at 102 reaches only 102's own console.
    async with connect(await desk.url("102", desk.tokens["102"])) as own:
        await desk.ring("1700000000.7", "102")
        assert (await receive(own))["call_id"] == "1700000000.7"


async def test_every_console_of_the_extension_gets_it_and_no_other_does(desk: Desk) -> None:
    async with connect(await desk.url("101", desk.tokens["101"])) as desk_phone, connect(
            await desk.url("101", desk.tokens["101"])) as laptop, connect(await desk.url("102", desk.tokens["102"])) as other:
        await desk.ring("1700000000.8", "101")
        assert (await receive(desk_phone))["call_id"] == "1700000000.8"
        assert (await receive(laptop))["call_id"] == "1700000000.8"
        await desk.ring("1700000000.9", "102")
        assert (await receive(other))["call_id"] == "1700000000.9"  # 1700000000.8 never reached it


async def test_a_console_connecting_mid_ring_still_gets_the_pop_up(desk: Desk) -> None:
    async with connect(await desk.url("101", desk.tokens["101"])) as early:
        await desk.ring("1700000000.10", "101", caller="+74951112233")
        await receive(early)
        async with connect(await desk.url("101", desk.tokens["101"])) as late:
            assert (await receive(late))["caller_number"] == "+74951112233"
        await desk.ring("1700000000.10", "101", state=CallState.ANSWERED)
        await receive(early)
    async with connect(await desk.url("101", desk.tokens["101"])) as after_answer:
        await desk.ring("1700000000.11", "101")
        assert (await receive(after_answer))["call_id"] == "1700000000.11"  # the answered call is not offered


async def test_each_tickets_process_serves_the_consoles_it_holds(desk: Desk, migrated_url: str,
                                                                  cleanup_bus: str, amqp_url: str) -> None:
    """Two processes on one bus: a shared queue would hand each event to one of them at random."""
    async with serve(migrated_url, cleanup_bus, amqp_url) as other_process:
        async with connect(await desk.url("101", desk.tokens["101"])) as here, connect(
                await desk.url("102", desk.tokens["102"], other_process)) as there:
            for n in range(6):
                await desk.ring(f"1700000001.{n}", "101")
                await desk.ring(f"1700000001.{n}", "102")
            assert [(await receive(here))["call_id"] for _ in range(6)] == [f"1700000001.{n}" for n in range(6)]
            assert [(await receive(there))["call_id"] for _ in range(6)] == [f"1700000001.{n}" for n in range(6)]


async def test_extensions_are_set_changed_and_unique(desk: Desk) -> None:
    async with httpx.AsyncClient(base_url=desk.server.http, headers={"Authorization": f"Bearer {ADMIN}"}) as admin:
        assert (await admin.patch("/api/v1/staff/Иванова", json={"extension": "102"})).status_code == 409
        assert (await admin.patch("/api/v1/staff/Никто", json={"extension": "150"})).status_code == 404
        assert (await admin.patch("/api/v1/staff/Иванова", json={"extension": "1 1"})).status_code == 422
        changed = await admin.patch("/api/v1/staff/Иванова", json={"extension": "111"})
        assert changed.status_code == 200 and changed.json()["extension"] == "111"
        listed = {s["name"]: s["extension"] for s in (await admin.get("/api/v1/staff")).json()}
        assert listed == {"Иванова": "111", "Петров": "102"}
        taken = await admin.post("/api/v1/staff", json={"name": "Орлова", "role": "agent", "extension": "102"})
        assert taken.status_code == 409
        agent = await admin.patch("/api/v1/staff/Иванова", json={"extension": None},
                                  headers={"Authorization": f"Bearer {desk.tokens['102']}"})
        assert agent.status_code == 403
    async with connect(await desk.url("101", desk.tokens["101"])) as old:  # her old extension is no longer hers
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(old.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    async with connect(await desk.url("111", desk.tokens["101"])) as new:
        await desk.ring("1700000002.1", "111")
        assert (await receive(new))["call_id"] == "1700000002.1"


async def test_an_extension_holds_a_bounded_number_of_consoles(desk: Desk) -> None:
    async def url() -> str:
        return await desk.url("101", desk.tokens["101"])

    async with contextlib.AsyncExitStack() as stack:
        consoles = [await stack.enter_async_context(connect(await url())) for _ in range(MAX_CONSOLES_PER_EXTENSION)]
        async with connect(await url()) as one_too_many:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(one_too_many.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429
        await desk.ring("1700000003.1", "101")
        assert [(await receive(c))["call_id"] for c in consoles] == ["1700000003.1"] * MAX_CONSOLES_PER_EXTENSION


async def metric(server: Server, name: str) -> float:
    async with httpx.AsyncClient(base_url=server.http) as client:
        text = (await client.get("/metrics")).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + " "))


async def test_a_confirmed_pop_up_is_timed_and_not_sent_again(desk: Desk) -> None:
    async with connect(await desk.url("101", desk.tokens["101"])) as console:
        await desk.ring("1700000000.20", "101")
        popup = await receive(console)
        await console.send(json.dumps({"type": "popup_shown", "call_id": popup["call_id"]}))
        for _ in range(50):
            if await metric(desk.server, "priyom_popup_shown_seconds_count") == 1:
                break
            await asyncio.sleep(0.1)
        assert await metric(desk.server, "priyom_popup_shown_seconds_count") == 1
        with pytest.raises(TimeoutError):  # confirmed: nothing comes again
            await receive(console, timeout=ACK_WAIT_S + 1)
    assert await metric(desk.server, "priyom_popup_resent_total") == 0


async def test_an_unconfirmed_pop_up_is_sent_again_once_then_counted(desk: Desk) -> None:
    async with connect(await desk.url("101", desk.tokens["101"])) as silent:
        await desk.ring("1700000000.21", "101")
        first = await receive(silent)
        again = await receive(silent, timeout=ACK_WAIT_S + 5)
        assert again == first  # the same pop-up, to the extension's consoles
        with pytest.raises(TimeoutError):
            await receive(silent, timeout=ACK_WAIT_S + 1)
    assert await metric(desk.server, "priyom_popup_resent_total") == 1
    assert await metric(desk.server, "priyom_popup_unconfirmed_total") == 1
    # A console that does confirm, after a first one that said nothing: the re-send reaches it.
    async with connect(await desk.url("102", desk.tokens["102"])) as lost:
        await desk.ring("1700000000.22", "102")
        await receive(lost)
        async with connect(await desk.url("102", desk.tokens["102"])) as desk_two:
            await receive(desk_two)  # the ringing pop-up offered to a console connecting mid-ring
            resent = await receive(desk_two, timeout=ACK_WAIT_S + 5)
            await desk_two.send(json.dumps({"type": "popup_shown", "call_id": resent["call_id"]}))
            for _ in range(50):
                if await metric(desk.server, "priyom_popup_shown_seconds_count") == 1:
                    break
                await asyncio.sleep(0.1)
    assert await metric(desk.server, "priyom_popup_shown_seconds_count") == 1


async def test_a_ticket_opens_a_socket_once_and_only_within_its_minute(desk: Desk) -> None:
    now = utcnow()
    async with desk.database.sessions() as session:
        stale = await ws_tickets.issue(session, name="Иванова", admin=False, now=now - timedelta(seconds=61))
        fresh = await ws_tickets.issue(session, name="Иванова", admin=False, now=now)
        await session.commit()
    async with desk.database.sessions() as session:
        assert await ws_tickets.redeem(session, stale, now=now) is None  # expired (and pruned by the next issue)
        assert await ws_tickets.redeem(session, fresh, now=now) == ws_tickets.Holder("Иванова", admin=False)
        assert await ws_tickets.redeem(session, fresh, now=now) is None  # once
        stored = (await session.execute(select(tables.ws_tickets.c.ticket_sha256))).scalars().all()
    assert fresh not in stored and stale not in stored  # only digests are kept
