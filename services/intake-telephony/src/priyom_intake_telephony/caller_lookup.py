"""The caller's card from identity, over the bus request/reply path, within a deadline.

The pop-up must reach the agent before they answer, so the lookup gets a short timeout: without an answer
in time the pop-up goes out as an unknown caller rather than late or not at all. Nothing is cached here:
identity's lookup is fast and keeps its own cache, invalidated when a card changes.
"""

from __future__ import annotations

from priyom_contracts import ClientLookupReply, ClientLookupRequest, ClientMatch
from priyom_kit import get_logger
from priyom_kit.rpc import RpcClient, RpcTimeout

from .messages import client_match

log = get_logger("priyom.intake-telephony.lookup")


class IdentityLookup:
    """``await lookup(phone)`` -> the card, or None (unknown, identity slow or down)."""

    def __init__(self, rpc: RpcClient, queue: str, timeout_s: float) -> None:
        self.rpc = rpc
        self.queue = queue
        self.timeout_s = timeout_s

    async def __call__(self, phone: str) -> ClientMatch | None:
        if not phone:
            return None
        request = ClientLookupRequest(phone=phone)
        try:
            body = await self.rpc.request(self.queue, request.model_dump_json().encode(), timeout=self.timeout_s)
            reply = ClientLookupReply.model_validate_json(body)
        except RpcTimeout:
            log.warning("identity lookup timed out: pop-up without a card", timeout_s=self.timeout_s)
            return None
        except Exception as exc:  # noqa: BLE001 - a pop-up without a card beats no pop-up
            log.warning("identity lookup failed: pop-up without a card", error=type(exc).__name__)
            return None
        return client_match(reply)
