"""The in-process cache in front of the telephony lookup: a caller pop-up must not wait for the database.

Entries are keyed by normalised identifier and dropped by card: every write that changes what a lookup
answers (an edit, a merge, an erasure, a card absorbed by contact sharing) calls :meth:`invalidate` with
the card's id after its transaction commits. Only hits are cached: an unknown number is one indexed query,
and caching "nobody" would hide the card a concurrent first contact is creating. A generation counter
keeps a lookup that read the database before an invalidation from storing its stale answer after it, and
the TTL bounds how long another instance's change can go unseen. Pure: no I/O, the clock is passed in.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class LookupHit:
    """What a lookup answers about a card: enough for a pop-up and for routing, no contact details."""

    client_id: uuid.UUID
    person_id: uuid.UUID | None
    display_name: str
    account_manager: str | None
    sla_tier: str
    organisation: str | None


Key = tuple[str, str]


class LookupCache:
    """A bounded LRU of identifier → :class:`LookupHit`, invalidated per card and expiring after ``ttl_s``."""

    def __init__(self, size: int, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.size = size
        self.ttl_s = ttl_s
        self._clock = clock
        self._entries: OrderedDict[Key, tuple[float, LookupHit]] = OrderedDict()
        self._keys_by_client: dict[uuid.UUID, set[Key]] = {}
        self.generation = 0
        self.hits = 0
        self.misses = 0

    def get(self, key: Key) -> LookupHit | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self._clock():
            if entry is not None:
                self._drop(key)
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry[1]

    def put(self, key: Key, hit: LookupHit, generation: int) -> None:
        """Store ``hit`` unless an invalidation happened since ``generation`` was read (then it may be stale)."""
        if self.size <= 0 or generation != self.generation:
            return
        if key in self._entries:
            self._drop(key)
        self._entries[key] = (self._clock() + self.ttl_s, hit)
        self._keys_by_client.setdefault(hit.client_id, set()).add(key)
        while len(self._entries) > self.size:
            self._drop(next(iter(self._entries)))

    def invalidate(self, *client_ids: uuid.UUID) -> None:
        """Forget every entry of these cards (call after the change committed)."""
        self.generation += 1
        for client_id in client_ids:
            for key in self._keys_by_client.pop(client_id, set()):
                self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: Key) -> None:
        _, hit = self._entries.pop(key)
        keys = self._keys_by_client.get(hit.client_id)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._keys_by_client[hit.client_id]
