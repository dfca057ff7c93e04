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
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .settings import ServiceSettings


class BlobStore(Protocol):
    async def put(self, data: bytes) -> str: ...
    async def get(self, key: str) -> bytes: ...  # KeyError when there is no such blob
    async def size(self, key: str) -> int | None: ...
    async def adopt(self, path: Path, key: str) -> None: ...  # take a spooled file whose sha256 is key
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
