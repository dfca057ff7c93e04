"""Album parts arrive as separate updates with one ``media_group_id``; they become one contact.

Each part's caller (a webhook request, a polling batch) waits until the whole album is published, so no part
is confirmed to Telegram before the contact exists. The album is published once no part arrived for
``wait_s``; if that publish fails every part fails, Telegram re-sends them all, and the album forms again.
A part that comes after the album's contact went out (a later ``getUpdates`` batch) is never folded into it:
:mod:`.album_parts` gives it a contact of its own, a follow-up message on the album's ticket.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace

from priyom_kit.adapters import Inbound, merge_parts


@dataclass
class _Album:
    parts: list[Inbound] = field(default_factory=list)
    done: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    timer: asyncio.TimerHandle | None = None


#: Which contact (key) each part goes out in: :meth:`.album_parts.AlbumParts.contacts`.
Contacts = Callable[[str, Sequence[Inbound]], Awaitable[list[tuple[str, list[Inbound]]]]]


class AlbumCollector:
    def __init__(self, publish: Callable[[Inbound], Awaitable[object]], wait_s: float, contacts: Contacts) -> None:
        self.publish = publish
        self.wait_s = wait_s
        self.contacts = contacts
        self._albums: dict[str, _Album] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def add(self, part: Inbound) -> None:
        """Add one part; returns once the album it belongs to is published (raises if that failed)."""
        assert part.group is not None
        album = self._albums.setdefault(part.group, _Album())
        if not any((p.body, p.files) == (part.body, part.files) for p in album.parts):  # a re-sent part
            album.parts.append(part)
        if album.timer is not None:
            album.timer.cancel()
        album.timer = asyncio.get_running_loop().call_later(self.wait_s, self._flush, part.group)
        await asyncio.shield(album.done)

    def _flush(self, group: str) -> None:
        task = asyncio.get_running_loop().create_task(self._publish(group))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self, group: str) -> None:
        album = self._albums.pop(group)
        try:
            for key, parts in await self.contacts(group, album.parts):
                await self.publish(replace(merge_parts(parts), idempotency_key=key))
        except Exception as exc:  # noqa: BLE001 - handed to every waiting part
            album.done.set_exception(exc)
        else:
            album.done.set_result(None)
