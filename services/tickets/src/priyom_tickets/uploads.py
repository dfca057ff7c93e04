"""Files agents attach to replies: streamed into the blob store with a size cap, their type sniffed.

The bytes go where every service finds attachments (the blob store the settings name, content-addressed by
SHA-256): spooled to a local file chunk by chunk while hashing, so a large file never sits in memory and one
over the cap is refused before it is stored, then handed to the store (moved into place in the blob
directory, or uploaded part by part to the S3 bucket). The declared content type is the
uploader's claim; what is recorded is what the first bytes say, so a script named ``invoice.pdf`` is not
passed on as a PDF.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from priyom_kit.blobs import BlobStore, BlobTooLarge, Read
from priyom_kit.blobs import store_stream as blob_stream

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


async def store_stream(blobs: BlobStore, spool: Path, read: Read, filename: str, max_bytes: int) -> Stored:
    """Stream ``read`` into the blob store (the kit's :func:`~priyom_kit.blobs.store_stream`) and sniff its
    type; TooLarge past ``max_bytes``."""
    try:
        kept = await blob_stream(blobs, spool, read, max_bytes)
    except BlobTooLarge:
        raise TooLarge(f"{filename!r} is over {max_bytes} bytes") from None
    return Stored(kept.key, kept.size, sniff(kept.head, filename))
