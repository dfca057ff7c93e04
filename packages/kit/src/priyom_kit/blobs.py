"""Where attachment bytes live. The bus carries only a reference (sha256 key, name, type, size).

Content addressing makes a re-sent upload free and lets any service verify what it reads. The file store
suits one machine or a shared volume; an object store can implement the same two methods.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol


class BlobStore(Protocol):
    async def put(self, data: bytes) -> str: ...
    async def get(self, key: str) -> bytes: ...


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
