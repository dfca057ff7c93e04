"""What identity tells the rest of the system about client cards."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from .base import Contract, Event

#: Cards named in one message at most; a bigger change (an import) is published in several messages.
MAX_CHANGED_CARDS = 1000


class ClientChange(StrEnum):
    """Why the cards changed: enough for a cache to decide, and for a reader of the journal to follow."""

    EDITED = "edited"  # a person edited the card, its persons or identifiers
    IDENTIFIED = "identified"  # identification changed a card (a messenger's card absorbed by a shared phone)
    MERGED = "merged"  # the second id is gone, its identifiers now answer with the first
    UNMERGED = "unmerged"  # a merge undone: the merged-away card and its identifiers are back
    ERASED = "erased"  # a person's personal data erased on request
    DELETED = "deleted"
    IMPORTED = "imported"  # cards created or extended by a CSV import
    FLAGGED = "flagged"  # an identifier flagged (an email address mail to it bounces from)


class CardMerge(Contract):
    """One card taken into another: ``source_id`` is gone and whatever named it now belongs to ``target_id``."""

    source_id: uuid.UUID
    target_id: uuid.UUID


class ClientChanged(Event):
    """Client cards changed (``client.changed.v1.<channel>``): drop what you cached about them.

    Published by identity after the change is committed, for every change that alters what a lookup of
    one of the cards' identifiers would answer. ``channel`` is the channel of the contact or delivery that
    caused the change, or ``api`` for a change a person made. Carries ids only, never personal data, so it
    can sit in the journal after an erasure.
    """

    event_type = "client.changed"
    carries_personal_data: ClassVar[bool] = False

    change: ClientChange
    client_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_CHANGED_CARDS,
                                        description="The cards whose lookups may now answer differently")
    # Added within v1 (optional, empty by default): ``client_ids`` alone cannot say which card survived, and
    # a service that keeps rows per client (tickets) must move them from the merged-away card to the survivor.
    merges: list[CardMerge] = Field(
        default_factory=list, max_length=MAX_CHANGED_CARDS,
        description="merged, or identified when identification absorbed a card: which card went into which; "
                    "unmerged: the merges undone (the source card is back)")
