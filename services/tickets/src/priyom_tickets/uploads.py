"""Files agents attach to replies: streamed into the blob store with a size cap, their type sniffed.

The bytes go where every service finds attachments (the blob store the settings name, content-addressed by
SHA-256): spooled to a local file chunk by chunk while hashing, so a large file never sits in memory and one
over the cap is refused before it is stored, then handed to the store (moved into place in the blob
directory, or uploaded part by part to the S3 bucket). The declared content type is the
uploader's claim; what is recorded is what the first bytes say, so a script named ``invoice.pdf`` is not
passed on as a PDF.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from priyom_kit.blobs import BlobStore

CHUNK = 1 << 20

#: Leading bytes of the types a helpdesk sees most; anything else is text (valid UTF-8) or opaque bytes.
_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"%PDF-", 0, "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
    (b"OggS", 0, "audio/ogg"),
    (b"ID3", 0, "audio/mpeg"),
    (b"ftyp", 4, "video/mp4"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "application/x-ole-storage"),  # old .doc/.xls
    (b"PK\x03\x04", 0, "application/zip"),
)
_OFFICE = {".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
           ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
           ".odt": "application/vnd.oasis.opendocument.text"}


def sniff(head: bytes, filename: str) -> str:
    """The content type the first bytes show (a zip named .docx is a Word document); never the claim."""
    for magic, offset, kind in _MAGIC:
        if head[offset:offset + len(magic)] == magic:
            if kind == "application/zip":
                return _OFFICE.get(Path(filename).suffix.lower(), kind)
            return kind
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
            return "text/plain"
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 3:  # a multi-byte character cut by the sniffing window
                return "text/plain"
    return "application/octet-stream"


class TooLarge(Exception):
    """The file is over the cap; nothing was stored."""


@dataclass(frozen=True)
class Stored:
    blob_key: str
    size: int
    content_type: str


Read = Callable[[int], Awaitable[bytes]]


async def store_stream(blobs: BlobStore, spool: Path, read: Read, filename: str, max_bytes: int) -> Stored:
    """Copy ``read`` (an upload's ``read(n)``) into the blob store through a file in ``spool`` (for the file
    store, its own root, so the final move is a rename); TooLarge past ``max_bytes``."""
    fd, tmp = await asyncio.to_thread(_temp_in, spool)
    digest, size, head = hashlib.sha256(), 0, b""
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := await read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(f"{filename!r} is over {max_bytes} bytes")
                if len(head) < 4096:
                    head += chunk[:4096 - len(head)]
                digest.update(chunk)
                await asyncio.to_thread(out.write, chunk)
            await asyncio.to_thread(_sync, out)
        key = digest.hexdigest()
        await blobs.adopt(Path(tmp), key)
        return Stored(key, size, sniff(head, filename))
    except BaseException:
        await asyncio.to_thread(Path(tmp).unlink, missing_ok=True)
        raise


def _temp_in(root: Path) -> tuple[int, str]:
    root.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(dir=root, prefix=".upload-")


def _sync(out: object) -> None:
    out.flush()  # type: ignore[attr-defined]
    os.fsync(out.fileno())  # type: ignore[attr-defined]
