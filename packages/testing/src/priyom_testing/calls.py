"""Calls for end-to-end tests and ``bench/popup.py``: the real telephony bridge on a fake PBX, or a stand-in.

:func:`bridge` runs ``python -m priyom_intake_telephony`` as a process logged in to a
:class:`~priyom_testing.ami_server.FakeAmiServer`: calls then go the whole way, AMI events in, pop-ups out.
:class:`TelephonyStandIn` does only the bridge's bus side when a phone starts ringing, through the same
public surfaces (identity's ``identity.lookup`` request/reply, then a confirmed ``call.event.v1.phone``),
for measuring the rest of the path apart from the bridge. Neither knows anything of tickets.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry

from priyom_contracts import (
    CallEvent,
    CallState,
    ClientLookupReply,
    ClientLookupRequest,
    ClientMatch,
    MatchKind,
)
from priyom_kit import Bus, ServiceSettings
from priyom_kit.rpc import RpcClient

from .ami_server import FakeAmiServer
from .ports import free_port
from .stack import ENV_PREFIX, Stack


def _spawn(env: dict[str, str], workdir: Path, name: str) -> subprocess.Popen[bytes]:
    with open(workdir / f"{name}.log", "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "priyom_intake_telephony", "serve"], env=env,
                                cwd=workdir, stdout=log, stderr=subprocess.STDOUT)


@asynccontextmanager
async def bridge(stack: Stack, ami: FakeAmiServer, name: str = "telephony-ami") -> AsyncIterator[int]:
    """One more intake-telephony process on the stack's bus, with its AMI bridge logged in to ``ami``."""
    port = free_port()
    # Its own database: the calls a bridge keeps are resumed by that bridge alone.
    database = f"sqlite+aiosqlite:///{stack.workdir / name}.db"
    env = {**stack.env, f"{ENV_PREFIX['intake-telephony']}PORT": str(port), "AMI_HOST": "127.0.0.1",
           "AMI_PORT": str(ami.port), "AMI_USERNAME": ami.username, "AMI_SECRET": ami.secret,
           f"{ENV_PREFIX['intake-telephony']}DATABASE_URL": database}
    await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "priyom_intake_telephony", "migrate"], env=env,
                            cwd=stack.workdir, check=True, capture_output=True, timeout=120)
    process = await asyncio.to_thread(_spawn, env, stack.workdir, name)
    try:
        await ami.wait_for_login(timeout=60)
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                        break
                await asyncio.sleep(0.2)
        yield port
    finally:
        process.terminate()
        await asyncio.to_thread(process.wait, 30)


class TelephonyStandIn:
    def __init__(self, amqp_url: str, prefix: str) -> None:
        self.bus = Bus(ServiceSettings(AMQP_URL=amqp_url, PRIYOM_BUS_PREFIX=prefix), "e2e-telephony",
                       CollectorRegistry())
        self.rpc = RpcClient(amqp_url)

    async def __aenter__(self) -> TelephonyStandIn:
        await self.bus.broker.connect()
        await self.rpc.connect()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.rpc.close()
        await self.bus.stop()

    async def lookup(self, phone: str) -> ClientMatch | None:
        """The caller's card from identity, as the bridge attaches it to the ringing event."""
        body = ClientLookupRequest(phone=phone).model_dump_json().encode()
        reply = ClientLookupReply.model_validate_json(
            await self.rpc.request(self.bus.topology.identity_lookup_queue, body, timeout=5))
        if not reply.found or reply.client_id is None:
            return None
        return ClientMatch(client_id=reply.client_id, person_id=reply.person_id, display_name=reply.display_name,
                           first_contact=False, match=MatchKind.EXACT_PHONE, account_manager=reply.account_manager,
                           sla_tier=reply.sla_tier or "standard", organisation=reply.organisation)

    async def publish(self, call_id: str, state: CallState, caller: str, agent: str | None, *,
                      caller_name: str | None = None, client: ClientMatch | None = None) -> None:
        await self.bus.publish(CallEvent(
            correlation_id=uuid.uuid4(), channel="phone", idempotency_key=f"pbx:{call_id}:{state}:{agent}",
            call_id=call_id, state=state, caller=caller, caller_name=caller_name, agent=agent, client=client))

    async def ring(self, call_id: str, caller: str, agent: str, caller_name: str | None = None) -> None:
        """An extension starts ringing: look the caller up, then publish the ringing event."""
        await self.publish(call_id, CallState.RINGING, caller, agent, caller_name=caller_name,
                           client=await self.lookup(caller))
