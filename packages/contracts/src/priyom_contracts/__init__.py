"""Priyom's bus contracts: pydantic models of every message, and the topology names.

This package imports nothing but pydantic, so any service, adapter or integrator can depend on it.
"""

from .base import ChannelName, Contract, Event, IdempotencyKey, TicketNumber, UtcDateTime, to_utc, utcnow
from .calls import CallDirection, CallEvent, CallState, ClientLookupReply, ClientLookupRequest
from .clients import MAX_CHANGED_CARDS, ClientChange, ClientChanged
from .contacts import (
    AttachmentRef,
    AutomatedKind,
    CallDetails,
    CallOutcome,
    ClientMatch,
    Contact,
    ContactAssigned,
    ContactIdentified,
    ContactReceived,
    ContactRouted,
    ContactType,
    MatchKind,
    MessengerId,
    Routing,
    Sender,
    ServiceContract,
    ThreadHint,
    Urgency,
)
from .replies import DeliveryReported, DeliveryStatus, OutboundReply, Recipient
from .tickets import TicketCreated, TicketStatus, TicketStatusChanged, TicketTypeCorrected
from .topology import EVENT_TYPES, FanoutSpec, QueueSpec, Topology, binding

__all__ = [
    "EVENT_TYPES",
    "MAX_CHANGED_CARDS",
    "AttachmentRef",
    "AutomatedKind",
    "CallDetails",
    "CallDirection",
    "CallEvent",
    "CallOutcome",
    "CallState",
    "ChannelName",
    "ClientChange",
    "ClientChanged",
    "ClientLookupReply",
    "ClientLookupRequest",
    "ClientMatch",
    "Contact",
    "ContactIdentified",
    "ContactReceived",
    "ContactAssigned",
    "ContactRouted",
    "ContactType",
    "Contract",
    "DeliveryReported",
    "DeliveryStatus",
    "Event",
    "FanoutSpec",
    "IdempotencyKey",
    "MatchKind",
    "MessengerId",
    "OutboundReply",
    "QueueSpec",
    "Recipient",
    "Routing",
    "Sender",
    "ServiceContract",
    "ThreadHint",
    "TicketCreated",
    "TicketNumber",
    "TicketStatus",
    "TicketStatusChanged",
    "TicketTypeCorrected",
    "Topology",
    "Urgency",
    "UtcDateTime",
    "binding",
    "to_utc",
    "utcnow",
]
