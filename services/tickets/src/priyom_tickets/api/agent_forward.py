"""Pass a console request on to another Priyom service with the agent's own token.

The console only ever talks to its own origin (its Content-Security-Policy allows nothing else), so tickets
forwards what the console asks of intake-telephony (click-to-call) and of the portal (the knowledge base). The
agent's own token goes with the request, so the other service applies its own rules to that agent, as for any
caller: telephony lets an agent ring from their own extension only, the portal shows staff what staff may see.
"""

from typing import Any

import httpx
from fastapi import HTTPException, Request, status

from priyom_kit import HttpClient, get_logger

log = get_logger("priyom.tickets.agent_forward")


async def forward(peer: HttpClient, service: str, request: Request, method: str, path: str, *,
                  passed_on: frozenset[int], **kwargs: Any) -> httpx.Response:
    """``method path`` at ``peer`` with the caller's Authorization header: its success, or its refusal as an HTTP
    error (the codes in ``passed_on`` as they are, with the peer's reason; any other a 502). Unreachable: 503."""
    try:
        answer = await peer.client.request(method, path, headers={"Authorization": request.headers["authorization"]},
                                           **kwargs)
    except httpx.HTTPError as exc:
        log.warning("peer unreachable", service=service, path=path.split("/")[3], error=type(exc).__name__)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{service} is unreachable") from None
    if answer.is_success:
        return answer
    try:
        detail = str(answer.json().get("detail", ""))[:300]
    except (ValueError, AttributeError):
        detail = ""
    code = answer.status_code if answer.status_code in passed_on else status.HTTP_502_BAD_GATEWAY
    raise HTTPException(code, detail or f"{service} answered {answer.status_code}")
