"""One function per consumed message type; thin, the decisions are in :mod:`priyom_router.routing`."""

from __future__ import annotations

from priyom_contracts import ContactIdentified, ContactRouted
from priyom_kit import Bus

from .routing import route
from .rules import RuleSet


async def on_contact_identified(event: ContactIdentified, *, rules: RuleSet, bus: Bus) -> ContactRouted:
    """Route the contact and publish the decision. Stateless: tickets drops redelivered duplicates."""
    routed = ContactRouted(
        correlation_id=event.correlation_id,
        channel=event.channel,
        idempotency_key=event.idempotency_key,
        contact=event.contact,
        client=event.client,
        routing=route(event.contact, event.client, rules),
    )
    await bus.publish(routed)
    return routed
