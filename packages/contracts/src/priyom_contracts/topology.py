"""The one place where exchange, queue and routing-key names are spelled.

Each consuming service owns one durable quorum queue per purpose, bound to the bus exchange by message type
and major version. Failed messages go to a per-queue retry queue (a delay, then back to the same queue only,
never to every subscriber of the routing key) and, when the attempts are spent or the message can never
succeed, to the dead-letter exchange with the reason in its headers.

``prefix`` isolates a deployment or a test run on a shared broker: every name below starts with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .base import Event
from .calls import CallEvent
from .chat_signals import AgentTyping, VisitorTyping
from .clients import ClientChanged
from .contacts import ContactAssigned, ContactIdentified, ContactReceived, ContactRouted
from .erasure import ClientErased, ErasureReported, PersonErased
from .portal import SignInCode
from .replies import DeliveryReported, OutboundReply
from .staff import StaffNotice
from .tickets import TicketAssigned, TicketCreated, TicketStatusChanged, TicketTypeCorrected

#: Every published message type, for schema export and documentation.
EVENT_TYPES: tuple[type[Event], ...] = (
    ContactReceived,
    ContactIdentified,
    ContactRouted,
    ContactAssigned,
    TicketCreated,
    TicketStatusChanged,
    TicketTypeCorrected,
    TicketAssigned,
    OutboundReply,
    DeliveryReported,
    CallEvent,
    ClientChanged,
    PersonErased,
    ClientErased,
    ErasureReported,
    VisitorTyping,
    AgentTyping,
    SignInCode,
    StaffNotice,
)


#: How long a typing signal waits in a fan-out queue before it is worth nothing (the consoles and the widget
#: stop showing it a few seconds after the last one).
TYPING_TTL_MS = 5_000


def journal_bindings() -> tuple[str, ...]:
    """What the journal stream keeps: every message type that names no person. A stream can only lose whole
    segments by age, never one person's messages, so personal data stays out of it altogether (the consumer
    queues, emptied as they are read, carry it; the stores that keep it redact it on erasure)."""
    return tuple(binding(event) for event in EVENT_TYPES if not event.carries_personal_data)


def binding(event: type[Event], channel: str = "*") -> str:
    """Routing-key pattern for one message type and major version, on one channel or all."""
    return f"{event.type_name()}.{channel}"


@dataclass(frozen=True)
class QueueSpec:
    """A consumer's durable queue: its name and what it is bound to."""

    name: str
    bindings: tuple[str, ...]

    @property
    def retry_name(self) -> str:
        """Where a failed delivery waits out its delay (a quorum queue: replicated like the queue itself)."""
        return f"{self.name}.delay"

    @property
    def legacy_retry_name(self) -> str:
        """The classic, unreplicated retry queue of earlier versions: a queue's type cannot change, so the
        replicated one has a new name and this one is removed once empty (:meth:`priyom_kit.Bus.declare`)."""
        return f"{self.name}.retry"


@dataclass(frozen=True)
class FanoutSpec:
    """A message every running process of a service must see, not just one of them.

    A durable shared queue hands each message to one consumer; a caller pop-up must reach the one process
    that holds the ringing agent's WebSocket, which any of several may be. So each process declares its own
    exclusive, auto-deleted queue (named by the process, gone with the connection) bound with
    ``bindings``. Its messages expire after ``ttl_ms`` and are dropped, never dead-lettered: a pop-up for a
    call that is over is worth nothing, and nobody should have to clear a pile of them. ``max_length``
    bounds a stalled process's backlog (the oldest go first).
    """

    purpose: str
    bindings: tuple[str, ...]
    ttl_ms: int
    max_length: int = 10_000


@dataclass(frozen=True)
class Topology:
    """All names for one deployment (or one isolated test run, through ``prefix``)."""

    prefix: str = ""
    queues: dict[str, QueueSpec] = field(init=False)
    fanouts: dict[str, FanoutSpec] = field(init=False)

    def __post_init__(self) -> None:
        p = self.prefix
        specs = {
            "identity.contacts": QueueSpec(f"{p}identity.contacts", (binding(ContactReceived),)),
            "router.contacts": QueueSpec(f"{p}router.contacts", (binding(ContactIdentified),)),
            "identity.tickets": QueueSpec(f"{p}identity.tickets", (binding(TicketCreated),)),
            "router.tickets": QueueSpec(f"{p}router.tickets", (binding(TicketCreated), binding(TicketStatusChanged),
                                                              binding(TicketTypeCorrected), binding(TicketAssigned))),
            "tickets.contacts": QueueSpec(f"{p}tickets.contacts", (binding(ContactRouted),)),
            "tickets.deliveries": QueueSpec(f"{p}tickets.deliveries", (binding(DeliveryReported),)),
            # Failed email deliveries: identity flags the address on the card as undeliverable.
            "identity.deliveries": QueueSpec(f"{p}identity.deliveries", (binding(DeliveryReported, "email"),)),
            # A contact that waited in a team queue got its agent: the ticket's assignee follows.
            "tickets.assignments": QueueSpec(f"{p}tickets.assignments", (binding(ContactAssigned),)),
            # Cards merged (tickets follow the surviving card) or flagged (notices avoid a dead address):
            # durable, unlike identity's cache fan-out, because a missed merge would leave tickets orphaned.
            "tickets.client-changes": QueueSpec(f"{p}tickets.client-changes", (binding(ClientChanged),)),
            # One outbound queue per channel service: it delivers replies on the channels it serves.
            "intake-email.outbound": QueueSpec(f"{p}intake-email.outbound", (binding(OutboundReply, "email"),)),
            "intake-messenger.outbound": QueueSpec(
                f"{p}intake-messenger.outbound",
                (binding(OutboundReply, "telegram"), binding(OutboundReply, "webhook"), binding(OutboundReply, "chat")),
            ),
            # The portal's sign-in codes, delivered by the service that answers customers on that channel.
            "intake-email.sign-in": QueueSpec(f"{p}intake-email.sign-in", (binding(SignInCode, "email"),)),
            "intake-messenger.sign-in": QueueSpec(f"{p}intake-messenger.sign-in", (binding(SignInCode, "telegram"),)),
            # Mail to staff about a ticket (an escalation that reached them), delivered by intake-email's relay.
            "intake-email.staff-notices": QueueSpec(f"{p}intake-email.staff-notices", (binding(StaffNotice, "email"),)),
        }
        erasures = (binding(PersonErased), binding(ClientErased))
        # Every store of personal data redacts on erasure, from its own durable queue: a service that was
        # down catches up when it starts. Identity gathers their reports.
        for service in ("tickets", "router", "intake-email", "intake-messenger", "portal"):
            specs[f"{service}.erasures"] = QueueSpec(f"{p}{service}.erasures", erasures)
        specs["identity.erasure-reports"] = QueueSpec(f"{p}identity.erasure-reports", (binding(ErasureReported),))
        object.__setattr__(self, "queues", specs)
        fanouts = {
            # Call progress for the caller pop-ups on the agents' consoles (``/ws/agent`` on tickets): every
            # tickets process gets every call event and serves the sockets it holds.
            "tickets.calls": FanoutSpec(f"{p}tickets.calls", (binding(CallEvent),), ttl_ms=20_000),
            # Card changes for the lookup caches: every identity process holds its own cache. A change
            # older than a cache's TTL concerns entries that have expired anyway.
            "identity.client-changes": FanoutSpec(f"{p}identity.client-changes", (binding(ClientChanged),),
                                                  ttl_ms=60_000),
            # The website chat's answers, to every intake-messenger process: one of them delivers each answer
            # (from intake-messenger.outbound), and each shows it live on the visitor sockets it holds. One that
            # comes after a minute is not worth showing: the visitor reads it from the conversation.
            "intake-messenger.chat-replies": FanoutSpec(f"{p}intake-messenger.chat-replies",
                                                        (binding(OutboundReply, "chat"),), ttl_ms=60_000),
            # The chat's typing indicator (chat_signals.py), each way to every process of the service that holds
            # the sockets: a visitor's to the consoles (tickets), an agent's to the widgets (intake-messenger).
            # A signal is stale within seconds, and a stalled process keeps only a few.
            "tickets.chat-typing": FanoutSpec(f"{p}tickets.chat-typing", (binding(VisitorTyping, "chat"),),
                                              ttl_ms=TYPING_TTL_MS, max_length=1_000),
            "intake-messenger.chat-typing": FanoutSpec(f"{p}intake-messenger.chat-typing",
                                                       (binding(AgentTyping, "chat"),), ttl_ms=TYPING_TTL_MS,
                                                       max_length=1_000),
        }
        object.__setattr__(self, "fanouts", fanouts)

    @property
    def exchange(self) -> str:
        """The topic exchange every service publishes to."""
        return f"{self.prefix}priyom.bus"

    @property
    def dead_letter_exchange(self) -> str:
        return f"{self.prefix}priyom.dlx"

    @property
    def dead_letter_queue(self) -> str:
        """Where messages that could not be processed wait for a person, with ``x-error`` saying why."""
        return f"{self.prefix}priyom.dead-letters"

    @property
    def journal_queue(self) -> str:
        """A RabbitMQ stream bound to every message type without personal data (:func:`journal_bindings`): a
        replayable record of what happened, so integrators can read the event history from any offset
        instead of polling the REST APIs, and a broadcast event (``ticket.created``) is kept even before
        anyone consumes it."""
        return f"{self.prefix}priyom.journal"

    @property
    def identity_lookup_queue(self) -> str:
        """Request queue of the fast client lookup (request/reply over the default exchange)."""
        return f"{self.prefix}identity.lookup"

    def queue(self, key: str) -> QueueSpec:
        """A consumer queue by its short key, e.g. ``identity.contacts``."""
        return self.queues[key]

    def fanout(self, key: str) -> FanoutSpec:
        """A per-process fan-out by its short key, e.g. ``tickets.calls``."""
        return self.fanouts[key]
