"""The one way a service takes part in an erasure: redact on ``person.erased`` / ``client.erased``, then report.

Every store of personal data consumes both messages from its own durable queue (a service that was down
catches up when it starts), redacts in its own transaction, and answers identity with an
``erasure.reported.v1`` of counts per store. The report is published after the redaction committed; should
the publish fail, the delivery is retried and the redaction, idempotent, runs again before the report does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from priyom_contracts import ClientErased, Erasure, ErasureReported, PersonErased

from .bus import Bus
from .logging import get_logger

log = get_logger("priyom.erasure")

#: A service's redaction: given the erasure, returns the rows (or files) redacted per store.
Redact = Callable[[Erasure], Awaitable[Mapping[str, int]]]


def erasure_report(erasure: Erasure, service: str, counts: Mapping[str, int]) -> ErasureReported:
    """The report of one service on one erasure: the same idempotency key however often it is repeated."""
    return ErasureReported(correlation_id=erasure.erasure_id, channel=service,
                           idempotency_key=f"erasure-report:{erasure.erasure_id}:{service}",
                           erasure_id=erasure.erasure_id, service=service, counts=dict(counts))


def serve_erasures(bus: Bus, service: str, redact: Redact) -> None:
    """Register ``redact`` on the service's ``<service>.erasures`` queue for both erasure messages."""
    key = f"{service}.erasures"

    async def handle(erasure: Erasure) -> None:
        counts = await redact(erasure)
        await bus.publish(erasure_report(erasure, service, counts))
        log.info("erasure redacted", erasure_id=str(erasure.erasure_id), service=service, rows=sum(counts.values()))

    @bus.consumer(key, PersonErased)
    async def on_person_erased(event: PersonErased) -> None:
        await handle(event)

    @bus.consumer(key, ClientErased)
    async def on_client_erased(event: ClientErased) -> None:
        await handle(event)

    bus.publisher(ErasureReported)
