"""Where attachment bytes live. The bus carries only a reference (sha256 key, name, type, size).

Content addressing makes a re-sent upload free and lets any service verify what it reads. The file store
suits one machine or a shared volume; :class:`~priyom_kit.s3_blobs.S3BlobStore` keeps the same keys in an
S3-compatible object store. :func:`open_blob_store` picks one from the settings, so every service reads and
writes the same store.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .settings import ServiceSettings


class BlobStore(Protocol):
    async def put(self, data: bytes) -> str: ...
    async def get(self, key: str) -> bytes: ...  # KeyError when there is no such blob
    async def size(self, key: str) -> int | None: ...
    async def adopt(self, path: Path, key: str) -> None: ...  # take a spooled file whose sha256 is key
    async def delete(self, key: str) -> bool: ...  # erasure: True when a blob was there and is gone
    async def close(self) -> None: ...


class FileBlobStore:
    """Blobs as files under ``root/ab/cdef…``, written atomically (temp file, fsync, rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise KeyError(key)
        return self.root / key[:2] / key[2:]

    async def put(self, data: bytes) -> str:
        # File I/O and fsync of a 10 MiB upload would stall every other request on the loop.
        return await asyncio.to_thread(self._put, data)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._get, key)

    async def size(self, key: str) -> int | None:
        try:
            return (await asyncio.to_thread(self._path(key).stat)).st_size
        except (KeyError, FileNotFoundError):
            return None

    async def adopt(self, path: Path, key: str) -> None:
        """Move the spooled file (on the same filesystem) into place; same key, same bytes, so replacing an
        existing copy is harmless."""
        target = self._path(key)
        await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread(os.replace, path, target)

    async def delete(self, key: str) -> bool:
        """Remove the blob for good (an erasure request): True when it was there. Idempotent."""
        try:
            path = self._path(key)
        except KeyError:
            return False
        try:
            await asyncio.to_thread(path.unlink)
        except FileNotFoundError:
            return False
        return True

    async def close(self) -> None:
        return None

    def _put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        path = self._path(key)
        if path.exists():
            return key
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def _get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None


def open_blob_store(settings: ServiceSettings) -> BlobStore:
    """The store the settings name: S3 when ``PRIYOM_BLOB_S3_BUCKET`` is set, else files under
    ``PRIYOM_BLOB_DIR``. Every service that touches attachments must open it this way, so they agree."""
    if settings.blob_s3_bucket:
        from .s3_blobs import S3BlobStore  # botocore is imported only by deployments that use it

        return S3BlobStore(settings.blob_s3_bucket, endpoint_url=settings.blob_s3_endpoint,
                           region=settings.blob_s3_region, prefix=settings.blob_s3_prefix)
    return FileBlobStore(settings.blob_dir)


#: Bytes read and written per step when an upload is streamed into the store.
CHUNK = 1 << 20
#: Leading bytes kept for type sniffing.
HEAD = 4096
Read = Callable[[int], Awaitable[bytes]]


class BlobTooLarge(Exception):
    """The stream is over the cap; nothing was stored."""


@dataclass(frozen=True)
class StreamedBlob:
    """What :func:`store_stream` stored: the key, the size and the first :data:`HEAD` bytes."""

    key: str
    size: int
    head: bytes


async def store_stream(blobs: BlobStore, spool: Path, read: Read, max_bytes: int) -> StreamedBlob:
    """Copy ``read`` (an upload's ``read(n)``) into the blob store chunk by chunk, hashing as it goes, so a
    large file never sits in memory and one over ``max_bytes`` is refused (:class:`BlobTooLarge`) before it
    is stored. The bytes pass through a file in ``spool`` (for the file store, its own root, so the final
    move is a rename; for S3, uploaded part by part from there)."""
    fd, tmp = await asyncio.to_thread(_temp_in, spool)
    digest, size, head = hashlib.sha256(), 0, b""
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := await read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise BlobTooLarge(f"over {max_bytes} bytes")
                if len(head) < HEAD:
                    head += chunk[:HEAD - len(head)]
                digest.update(chunk)
                await asyncio.to_thread(out.write, chunk)
            await asyncio.to_thread(_sync, out)
        key = digest.hexdigest()
        await blobs.adopt(Path(tmp), key)
        return StreamedBlob(key, size, head)
    except BaseException:
        await asyncio.to_thread(Path(tmp).unlink, missing_ok=True)
        raise


def _temp_in(root: Path) -> tuple[int, str]:
    root.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(dir=root, prefix=".upload-")


def _sync(out: object) -> None:
    out.flush()  # type: ignore[attr-defined]
    os.fsync(out.fileno())  # type: ignore[attr-defined]
