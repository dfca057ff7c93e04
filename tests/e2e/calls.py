"""A stand-in for the telephony bridge's bus side, for end-to-end tests and ``bench/popup.py``.

It does what intake-telephony does when a phone starts ringing, through the same public surfaces: ask
identity's ``identity.lookup`` queue for the caller's card (request/reply, as the PBX bridge asks), then
publish a :class:`~priyom_contracts.CallEvent` on the bus with the kit's confirmed publish. Used until the
bridge and its fake AMI server drive calls themselves; it knows nothing of tickets.
"""

from __future__ import annotations

import uuid

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
