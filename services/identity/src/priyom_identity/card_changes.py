"""Announcing committed card changes: this process's lookup cache at once, everyone else by ``client.changed.v1``.

Every write that alters what a lookup answers (an edit, a merge or its undo, an erasure, an import, a card
absorbed by identification, an address flagged) ends with :meth:`CardChanges.committed` after its commit.
The local cache is cleared synchronously, so the very next lookup in this process is right; other identity
processes (and any service caching lookups) hear of it through the event and drop their entries. Should
the publish fail, the change stands and is not undone: other processes' caches then catch up by their TTL,
which is what bounds staleness in the first place, so the failure is logged rather than raised.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from priyom_contracts import MAX_CHANGED_CARDS, CardMerge, ClientChange, ClientChanged
from priyom_kit import Publish, get_logger

from .lookup.cache import LookupCache

log = get_logger("priyom.identity.changes")

#: The channel of a change a person made through the API.
API_CHANNEL = "api"


class CardChanges:
    """Built once in ``app.py``; ``publish`` is the bus's (None in tests that need no bus)."""

    def __init__(self, cache: LookupCache, publish: Publish | None = None) -> None:
        self.cache = cache
        self._publish = publish

    async def committed(self, change: ClientChange, client_ids: Iterable[uuid.UUID], *,
                        channel: str = API_CHANNEL, merges: Sequence[CardMerge] = ()) -> None:
        """Call after the transaction that changed ``client_ids`` committed (never before: a process that
        reloads between the announcement and the commit would cache the old answer again). ``merges`` says
        which card went into which, for the services that keep rows per client (they travel in the first
        message of a long change)."""
        ids = list(dict.fromkeys(client_ids))
        if not ids:
            return
        self.cache.invalidate(*ids)
        if self._publish is None:
            return
        for start in range(0, len(ids), MAX_CHANGED_CARDS):
            key = uuid.uuid4()
            event = ClientChanged(correlation_id=key, channel=channel, idempotency_key=f"client-changed:{key}",
                                  change=change, client_ids=ids[start:start + MAX_CHANGED_CARDS],
                                  merges=list(merges) if start == 0 else [])
            try:
                await self._publish(event)
            except Exception as exc:  # noqa: BLE001 - the change is committed; caches expire by their TTL
                log.warning("card change not announced", change=change.value, cards=len(event.client_ids),
                            error=type(exc).__name__)

    def heard(self, event: ClientChanged) -> None:
        """Another process (or this one) announced a change: forget those cards."""
        self.cache.invalidate(*event.client_ids)
