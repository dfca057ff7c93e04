"""Priyom's bus contracts: pydantic models of every message, and the topology names.

This package imports nothing but pydantic, so any service, adapter or integrator can depend on it.
"""

from .base import ChannelName, Contract, Event, IdempotencyKey, TicketNumber, UtcDateTime, to_utc, utcnow
from .calls import CallDirection, CallEvent, CallState, ClientLookupReply, ClientLookupRequest
from .cards import ClientCard, IdentifierView, PersonRole, PersonView
from .clients import MAX_CHANGED_CARDS, ClientChange, ClientChanged
from .contacts import (
    CONTACT_ID_NAMESPACE,
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
    contact_id_for,
)
from .replies import DeliveryReported, DeliveryStatus, OutboundReply, Recipient
from .staff import Me, StaffRole
from .tickets import TicketCreated, TicketStatus, TicketStatusChanged, TicketTypeCorrected
from .topology import EVENT_TYPES, FanoutSpec, QueueSpec, Topology, binding

__all__ = [
    "CONTACT_ID_NAMESPACE",
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
    "ClientCard",
    "ClientChange",
    "ClientChanged",
    "ClientLookupReply",
    "ClientLookupRequest",
    "ClientMatch",
    "Contact",
    "ContactAssigned",
    "ContactIdentified",
    "ContactReceived",
    "ContactRouted",
    "ContactType",
    "Contract",
    "DeliveryReported",
    "DeliveryStatus",
    "Event",
    "FanoutSpec",
    "IdempotencyKey",
    "IdentifierView",
    "MatchKind",
    "Me",
    "MessengerId",
    "OutboundReply",
    "PersonRole",
    "PersonView",
    "QueueSpec",
    "Recipient",
    "Routing",
    "Sender",
    "ServiceContract",
    "StaffRole",
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
    "contact_id_for",
    "to_utc",
    "utcnow",
]
