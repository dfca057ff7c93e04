"""Mail that can never become a contact goes to the dead-letter queue, whole, with the reason.

The bus's own dead-lettering works on consumed deliveries; a mail that arrives by SMTP or IMAP was never
on the bus, so it is published straight to the dead-letter exchange (confirmed, like every publish), with
the same headers the bus's failure policy writes, and the raw message as the body so a person can read it
and replay it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from priyom_contracts import ContactReceived
from priyom_kit import Bus

from .intake import CHANNEL, DeadLetter


def dead_letter_publisher(bus: Bus) -> DeadLetter:
    async def dead_letter(raw: bytes, reason: str, source: str) -> None:
        routing_key = f"{ContactReceived.type_name()}.{CHANNEL}"
        await bus.broker.publish(
            raw,
            exchange=bus.dead_letter_exchange,
            routing_key=routing_key,
            headers={
                "x-error": reason[:2000],
                "x-error-kind": "permanent",
                "x-attempts": 1,
                "x-original-queue": source,  # smtp, or imap:<mailbox>
                "x-original-routing-key": routing_key,
                "x-failed-at": datetime.now(UTC).isoformat(),
                "x-failed-by": bus.service,
            },
            content_type="message/rfc822",
            persist=True,
            mandatory=True,
            timeout=bus.publish_timeout_s,
        )

    return dead_letter
