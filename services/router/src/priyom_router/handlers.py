"""One function per consumed message type; thin, the decisions are in :mod:`priyom_router.routing`.

A contact is decided and its assignment recorded in one transaction (a balanced pick under its team group's
lock), with its ``contact.routed`` staged in the outbox of the same transaction and sent after the commit (and
by the relay's periodic round, or at the next start, when that send failed or the process died first). A
redelivery finds the recorded decision and stages it again (same routing, same key), so the agent's load is
counted once and tickets, which drops duplicates by contact, sees one decision. A queue hand-over
(``contact.assigned``) is staged in the transaction that takes the contact from the queue, the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from priyom_contracts import (
    ContactAssigned,
    ContactIdentified,
    ContactRouted,
    Routing,
    TicketAssigned,
    TicketCreated,
    TicketStatusChanged,
    TicketTypeCorrected,
    utcnow,
)
from priyom_kit import get_logger
from priyom_kit.batches import Within
from priyom_kit.outbox import Relay, stage_events, staged_together

from . import store
from .active_rules import ActiveRules
from .assignment import Roster
from .contact_type import SecondOpinion, within
from .routing import decide
from .rules import BalancingGroup, RuleBook
from .tables import router_outbox

log = get_logger("priyom.router.handlers")


@dataclass
class Basis:
    """What every decision of a transaction starts from: the rule book and its version, who is available, and
    the balancing groups whose lock the transaction already holds (a lock is taken once; it is held to the
    commit). Read once for a batch of contacts (:func:`on_contacts_identified`)."""

    book: RuleBook
    version: int
    available: dict[str, bool]
    locked: set[str] = field(default_factory=set)
    #: The decisions recorded for the batch's contacts (read together up front, then each one recorded here),
    #: or None: each contact's is read on its own.
    recorded: dict[UUID, Routing] | None = None
    #: Each locked group's members and roster as read under its lock, kept current with the decisions
    #: recorded since (:meth:`recorded_now`).
    rosters: dict[str, tuple[BalancingGroup, Roster]] = field(default_factory=dict)

    @classmethod
    async def read(cls, session: AsyncSession, rules: ActiveRules,
                   contact_ids: Sequence[UUID] | None = None) -> Basis:
        book, version = await rules.current(session)
        recorded = await store.recorded_routings(session, contact_ids) if contact_ids is not None else None
        return cls(book, version, await store.agent_states(session), recorded=recorded)

    async def recorded_routing(self, session: AsyncSession, contact_id: UUID) -> Routing | None:
        if self.recorded is None:
            return await store.recorded_routing(session, contact_id)
        return self.recorded.get(contact_id)

    async def roster(self, session: AsyncSession, group: BalancingGroup, round_robin: bool) -> Roster:
        """The group's roster, read under its lock once a transaction: a later pick sees the decisions
        recorded before it through :meth:`recorded_now`, as a new read would."""
        if group.key not in self.locked:
            await store.lock_group(session, group.key)
            self.locked.add(group.key)
        kept = self.rosters.get(group.key)
        if kept is None:
            kept = group, await store.group_roster(session, group.members, self.available,
                                                   round_robin=round_robin)
            self.rosters[group.key] = kept
        return kept[1]

    def recorded_now(self, contact_id: UUID, routing: Routing, opens_ticket: bool, round_robin: bool) -> None:
        """A decision was recorded in this transaction, balanced or not (a client's own manager counts too):
        its assignee weighs one more in every roster kept (as the open assignment row it wrote counts), and
        is the team's last assignee where the book balances by turns (as the cursor it moved says)."""
        if self.recorded is not None:
            self.recorded[contact_id] = routing
        if routing.assignee is None:
            return
        for key, (group, roster) in self.rosters.items():
            loads = dict(roster.loads)
            if opens_ticket and routing.assignee in group.members:
                loads[routing.assignee] = loads.get(routing.assignee, 0) + 1
            turns = dict(roster.last_assigned)
            if round_robin:
                turns[routing.team] = routing.assignee
            self.rosters[key] = group, Roster(available=roster.available, loads=loads, last_assigned=turns)


async def route_and_record(session: AsyncSession, event: ContactIdentified, rules: ActiveRules,
                           second_opinion: SecondOpinion | None, basis: Basis | None = None) -> Routing:
    """The contact's routing: the recorded one on a redelivery, else a new decision, recorded.

    Classifying, the rule book and availability need no lock. Only a balanced pick (the least loaded or
    next-in-turn member of a team) depends on the contacts decided at the same moment: it is placed again
    under the lock of the team's balancing group, on the group's loads read under that lock, and recorded
    before the commit releases it. Picks in unrelated groups do not wait for each other."""
    contact = event.contact
    recorded = await (basis.recorded_routing(session, contact.contact_id) if basis is not None
                      else store.recorded_routing(session, contact.contact_id))
    if recorded is not None:
        return recorded
    basis = basis or await Basis.read(session, rules)
    book, version = basis.book, basis.version
    decision = decide(contact, event.channel, event.client, book, Roster(available=basis.available),
                      second_opinion=second_opinion, version=version)
    round_robin = book.assignment.balancing == "round_robin"
    group = book.balancing_group(decision.assignment.team) if decision.assignment.balanced else None
    if group is not None:
        roster = await basis.roster(session, group, round_robin)
        decision = decide(contact, event.channel, event.client, book, roster, version=version,
                          kind=decision.classification)
    opens_ticket = contact.automated is None
    recorded_now = await store.record_assignment(
        session, contact.contact_id, decision.routing, waiting=decision.assignment.waiting, routed_at=utcnow(),
        channel=event.channel, opens_ticket=opens_ticket, round_robin=round_robin,
        until_opening=decision.assignment.until_opening)
    if not recorded_now:
        # A concurrent delivery of the same contact recorded its decision first: that one stands.
        recorded = await store.recorded_routing(session, contact.contact_id)
        assert recorded is not None
        return recorded
    basis.recorded_now(contact.contact_id, decision.routing, opens_ticket, round_robin)
    return decision.routing


def _routed(event: ContactIdentified, routing: Routing) -> ContactRouted:
    return ContactRouted(correlation_id=event.correlation_id, channel=event.channel,
                         idempotency_key=event.idempotency_key, contact=event.contact, client=event.client,
                         routing=routing)


async def on_contact_identified(event: ContactIdentified, *, sessions: async_sessionmaker[AsyncSession],
                                rules: ActiveRules, second_opinion: SecondOpinion | None,
                                relay: Relay) -> ContactRouted:
    async with sessions() as session, session.begin():
        routed = _routed(event, await route_and_record(session, event, rules, second_opinion))
        await stage_events(session, router_outbox, [routed])
    await relay.flush_quietly()
    return routed


async def on_contacts_identified(events: Sequence[ContactIdentified], within: Within | None = None, *,
                                 sessions: async_sessionmaker[AsyncSession], rules: ActiveRules,
                                 second_opinion: SecondOpinion | None, relay: Relay) -> list[ContactRouted]:
    """:func:`on_contact_identified` for a batch (:class:`priyom_kit.batches.Batches`): one transaction, the
    rule book and availability read once, each contact decided in turn in its delivery's context (a balanced
    pick sees the picks made before it in the batch, under its group's lock, taken once), one flush of the
    outbox after the commit. A failure (a deadlock between two routers' batches locking their groups in
    another order) rolls back the batch, whose contacts are then routed one at a time."""
    within = within or Within.here()

    async def one(session: AsyncSession, event: ContactIdentified, basis: Basis) -> ContactRouted:
        routed = _routed(event, await route_and_record(session, event, rules, second_opinion, basis))
        await stage_events(session, router_outbox, [routed])  # in the delivery's trace
        return routed

    async with sessions() as session, session.begin():
        basis = await Basis.read(session, rules, [event.contact.contact_id for event in events])
        async with staged_together(session):
            routed = [await within(index, one(session, event, basis)) for index, event in enumerate(events)]
    await relay.flush_quietly()
    return routed


def log_routed(routed: ContactRouted) -> None:
    """One line per routed contact, in the delivery's own context (its correlation id)."""
    routing = routed.routing
    log.info("routed", contact_id=str(routed.contact.contact_id), type=routing.type.value, rule=routing.rule,
             team=routing.team, assigned=routing.assignee is not None)


# -- the tickets service's lifecycle events (router.tickets): each agent's load kept current --------------


async def on_ticket_created(event: TicketCreated, *, sessions: async_sessionmaker[AsyncSession]) -> None:
    """The ticket a contact became weighs on its assignee (the routing recorded for it, or the ticket's own
    when the contact was routed before this router)."""
    await on_tickets_created([event], sessions=sessions)


async def on_tickets_created(events: Sequence[TicketCreated], within: Within | None = None, *,
                             sessions: async_sessionmaker[AsyncSession]) -> list[None]:
    """:func:`on_ticket_created` for a batch (:class:`priyom_kit.batches.Batches`), in one transaction and one
    statement. Nothing of it is logged or published for a delivery, so no delivery's context is entered
    (``within`` is not used)."""
    async with sessions() as session, session.begin():
        recorded = await store.recorded_routings(session, [event.contact_id for event in events])
        await store.tickets_created(session, [(event, recorded.get(event.contact_id) or _routing_of(event))
                                              for event in events])
    return [None] * len(events)


def _routing_of(event: TicketCreated) -> Routing:
    """The routing of a ticket whose contact was routed before this router (none recorded here)."""
    return Routing(
        type=event.type, category="unknown", urgency=event.urgency, team=event.team,
        assignee=event.assignee, reason="recorded from ticket.created (routed before this router)",
        first_response_due_at=event.first_response_due_at, resolution_due_at=event.resolution_due_at,
    )


async def on_ticket_status_changed(event: TicketStatusChanged, *, sessions: async_sessionmaker[AsyncSession],
                                   rules: ActiveRules, relay: Relay) -> None:
    """An agent whose ticket is finished takes the next contact waiting in their teams' queues."""
    async with sessions() as session, session.begin():
        known, assignee = await store.ticket_status(session, str(event.number), event.new_status,
                                                    event.occurred_at)
    if not known:
        # A status change can overtake its ticket.created (they come from separate publishes): retry.
        raise LookupError(f"ticket {event.number} is not known to the router yet")
    if assignee and not store.is_open(event.new_status):
        await offer_waiting_work(assignee, sessions=sessions, rules=rules, relay=relay)


async def on_ticket_assigned(event: TicketAssigned, *, sessions: async_sessionmaker[AsyncSession],
                             rules: ActiveRules, relay: Relay) -> None:
    """An agent took, handed over or transferred a ticket: the load follows it, and the agent it left for a
    colleague takes the next contact waiting, as on finishing one. A ticket put back in the queue is not offered
    to anyone here (the one who put it back would pull it again): the next agent to free up takes it."""
    async with sessions() as session, session.begin():
        if not await store.ticket_assigned(session, str(event.number), event.team, event.assignee):
            raise LookupError(f"ticket {event.number} is not known to the router yet")  # overtook ticket.created
    if event.old_assignee and event.assignee and event.old_assignee != event.assignee:
        await offer_waiting_work(event.old_assignee, sessions=sessions, rules=rules, relay=relay)


async def on_ticket_type_corrected(event: TicketTypeCorrected, *,
                                   sessions: async_sessionmaker[AsyncSession]) -> None:
    """An agent's type correction is kept as a training example for the learned classifier."""
    async with sessions() as session, session.begin():
        await store.record_correction(session, event.contact_id, str(event.number), event.new_type,
                                      event.subject, event.text, event.occurred_at)
    log.info("type correction kept for training", type=event.new_type.value)


async def offer_waiting_work(agent: str, *, sessions: async_sessionmaker[AsyncSession], rules: ActiveRules,
                             relay: Relay, now: datetime | None = None) -> ContactAssigned | None:
    """Give ``agent`` the contact that has waited longest (most urgent first) in the queue of a team of
    theirs that is at work ``now``, if they are available; announce it for the tickets service.

    An agent pulls one contact each time they free up (become available, finish a ticket), so a queue
    drains at the pace agents finish work rather than piling onto whoever appeared first."""
    async with sessions() as session, session.begin():
        book, _version = await rules.current(session)
        own = [t.name for t in book.teams if agent in t.members]
        if not own:
            return None
        await store.lock_group(session, book.balancing_group(own[0]).key)
        available = (await store.agent_states(session)).get(agent, book.assignment.available_by_default)
        if not available:
            return None
        local = (now or utcnow()).astimezone(book.zone)
        teams = [t.name for t in book.teams
                 if agent in t.members and (t.hours is None or within(t.hours, local))]
        waiting = await store.next_waiting(session, teams)
        if waiting is None:
            return None
        why = f"{agent} freed up and took it from the {waiting.team} queue"
        assigned = await hand_over(session, waiting, agent, why)
    await relay.flush_quietly()
    return assigned


async def hand_over(session: AsyncSession, waiting: store.Waiting, agent: str, why: str) -> ContactAssigned:
    """Take a contact that waited in a queue for ``agent`` and stage, in the same transaction, the
    ``contact.assigned`` that tells the tickets service (sent by the relay once the caller committed)."""
    await store.take_waiting(session, waiting, agent, why)
    assigned = ContactAssigned(
        correlation_id=waiting.contact_id, channel=waiting.channel or "router",
        idempotency_key=f"{waiting.contact_id}:{agent}", contact_id=waiting.contact_id,
        ticket_number=waiting.ticket_number, team=waiting.team, assignee=agent, reason=why,
    )
    await stage_events(session, router_outbox, [assigned])
    log.info("assigned from queue", contact_id=str(waiting.contact_id), team=waiting.team)
    return assigned
