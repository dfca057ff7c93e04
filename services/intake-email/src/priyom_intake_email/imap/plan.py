"""Pure IMAP helpers: reading server answers and planning what to fetch. No connection, tested on samples.

Fetches are planned by size, not only by count: the sizes (``RFC822.SIZE``) are asked first, a round trip
carries at most ``max_count`` messages and ``max_bytes`` bytes (one larger message alone), and a message
over the mail size limit is never fetched whole: only its header is read, for the dead letter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aioimaplib import Response

_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_FETCH_UID = re.compile(rb"\bUID (\d+)")
_FETCH_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")


def uidvalidity_of(response: Response) -> int | None:
    for line in response.lines:
        match = _UIDVALIDITY.search(bytes(line))
        if match:
            return int(match.group(1))
    return None


def fetched_messages(lines: Sequence[bytes | bytearray]) -> dict[int, bytes]:
    """``UID FETCH … BODY.PEEK[]`` response lines to {uid: raw message}: the literal follows its FETCH line."""
    messages: dict[int, bytes] = {}
    for i, line in enumerate(lines[:-1]):
        following = lines[i + 1]
        if isinstance(line, bytes) and b"FETCH" in line and isinstance(following, bytearray):
            match = _FETCH_UID.search(line)
            if match:
                messages[int(match.group(1))] = bytes(following)
    return messages


def fetched_sizes(lines: Sequence[bytes | bytearray]) -> dict[int, int]:
    """``UID FETCH … (UID RFC822.SIZE)`` response lines to {uid: size in bytes}."""
    sizes: dict[int, int] = {}
    for line in lines:
        data = bytes(line)
        uid, size = _FETCH_UID.search(data), _FETCH_SIZE.search(data)
        if b"FETCH" in data and uid and size:
            sizes[int(uid.group(1))] = int(size.group(1))
    return sizes


def uid_set(uids: Iterable[int]) -> str:
    """``1:3,7,9:10``: compact, so a thousand UIDs stay one short command."""
    ranges: list[str] = []
    start = previous = None
    for uid in sorted(uids):
        if previous is not None and uid == previous + 1:
            previous = uid
            continue
        if start is not None:
            ranges.append(f"{start}:{previous}" if start != previous else str(start))
        start = previous = uid
    if start is not None:
        ranges.append(f"{start}:{previous}" if start != previous else str(start))
    return ",".join(ranges)


@dataclass(frozen=True)
class FetchBatch:
    uids: list[int]
    oversized: bool = False  # one message over the size limit: only its header is fetched


def fetch_batches(uids: Sequence[int], sizes: dict[int, int], *, max_count: int, max_bytes: int,
                  max_message_bytes: int) -> list[FetchBatch]:
    """Consecutive UIDs (the checkpoint moves in UID order) cut into batches bounded by count and bytes.
    A UID without a size (expunged meanwhile) costs nothing; the fetch will simply not return it."""
    batches: list[FetchBatch] = []
    current: list[int] = []
    current_bytes = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if size > max_message_bytes:
            if current:
                batches.append(FetchBatch(current))
            batches.append(FetchBatch([uid], oversized=True))
            current, current_bytes = [], 0
            continue
        if current and (len(current) >= max_count or current_bytes + size > max_bytes):
            batches.append(FetchBatch(current))
            current, current_bytes = [], 0
        current.append(uid)
        current_bytes += size
    if current:
        batches.append(FetchBatch(current))
    return batches
