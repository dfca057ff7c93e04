"""A decision is never lost between its commit and its announcement: routings and queue hand-overs are
staged in the router's outbox in the deciding transaction and sent once the broker takes them, however many
sends failed in between (the broker down, or the process killed after the commit)."""

from __future__ import annotations

from priyom_contracts import Event
from priyom_kit.db import Database
from priyom_router import handlers
from priyom_router.queue_sweep import sweep_queues

from .test_queue_sweep import MONDAY_0900, RULES, SALES, route_leads
from .test_store import Published


class BrokerDown(Published):
    """Refuses every publish while ``down``, as a publish to a broker that is restarting does."""

    def __init__(self) -> None:
        super().__init__()
        self.down = True
        self.refused = 0

    async def __call__(self, event: Event) -> None:
        if self.down:
            self.refused += 1
            raise ConnectionError("broker restarting")
        await super().__call__(event)


async def test_decisions_made_while_the_broker_is_down_go_out_once_it_is_back(database: Database) -> None:
    published = BrokerDown()
    events = await route_leads(database, published, 2)  # decided and committed; their sends fail
    assigned = await sweep_queues(database.sessions, RULES, published.relay(database), MONDAY_0900)
    assert [a.assignee for a in assigned] == SALES  # the hand-overs are committed too
    assert published.refused >= 3 and published.events == [] and published.assigned == []

    published.down = False
    relay = published.relay(database)  # the periodic round (or the next start) sends what is staged
    assert await relay.flush() == 4
    assert [e.contact.contact_id for e in published.events] == [e.contact.contact_id for e in events]
    assert [(a.contact_id, a.assignee) for a in published.assigned] == [(a.contact_id, a.assignee)
                                                                        for a in assigned]
    assert await relay.flush() == 0


async def test_a_redelivered_contact_is_announced_again_with_the_same_decision(database: Database) -> None:
    published = Published()
    [event] = await route_leads(database, published, 1)
    await handlers.on_contact_identified(event, sessions=database.sessions, rules=RULES, second_opinion=None,
                                         relay=published.relay(database))
    first, again = published.events
    assert again.routing == first.routing and again.idempotency_key == first.idempotency_key
