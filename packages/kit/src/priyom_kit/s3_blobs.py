"""Attachment bytes in an S3-compatible object store (AWS S3, MinIO, Ceph RGW, Yandex Object Storage).

The same content-addressed keys as :class:`~priyom_kit.blobs.FileBlobStore` (``<prefix>ab/cdef…``), so
switching stores is moving the objects, not renaming them. Credentials are botocore's own: the standard
``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` variables (or a profile, or an instance role), never a
Priyom setting, so they stay out of every settings dump.

Large files are sent as a multipart upload read part by part from the spooled file, so memory stays at one
part whatever the attachment's size. One client (and its connection pool) is opened on first use and
closed by :meth:`S3BlobStore.close`.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

try:
    from aiobotocore.session import get_session
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as missing:  # an optional extra: say which one, not just the module's name
    raise ImportError("PRIYOM_BLOB_S3_BUCKET is set but the S3 client is not installed: pip install "
                      "'priyom-kit[s3]' (images: docker build --build-arg KIT_EXTRAS=s3)") from missing

#: Files up to this size go in one PUT; larger ones as parts of this size (S3's minimum part is 5 MiB).
PART_BYTES = 8 * 1024 * 1024
_MISSING = {"404", "NoSuchKey", "NotFound"}


def _valid(key: str) -> str:
    if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
        raise KeyError(key)
    return key


class S3BlobStore:
    """Blobs as objects ``<prefix><ab>/<cdef…>`` in ``bucket``."""

    def __init__(self, bucket: str, *, endpoint_url: str | None = None, region: str | None = None,
                 prefix: str = "", part_bytes: int = PART_BYTES) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.part_bytes = max(part_bytes, 5 * 1024 * 1024)
        self._endpoint_url = endpoint_url
        self._region = region
        self._client: Any = None
        self._context: Any = None
        self._lock = asyncio.Lock()

    def object_name(self, key: str) -> str:
        key = _valid(key)
        return f"{self.prefix}{key[:2]}/{key[2:]}"

    async def _s3(self) -> Any:
        async with self._lock:
            if self._client is None:
                config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5,
                                read_timeout=60, s3={"addressing_style": "path"} if self._endpoint_url else None)
                self._context = get_session().create_client(
                    "s3", endpoint_url=self._endpoint_url, region_name=self._region, config=config)
                self._client = await self._context.__aenter__()
            return self._client

    async def close(self) -> None:
        async with self._lock:
            if self._context is not None:
                await self._context.__aexit__(None, None, None)
            self._client = self._context = None

    async def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        if await self.size(key) is None:
            await (await self._s3()).put_object(Bucket=self.bucket, Key=self.object_name(key), Body=data)
        return key

    async def get(self, key: str) -> bytes:
        s3 = await self._s3()
        try:
            answer = await s3.get_object(Bucket=self.bucket, Key=self.object_name(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise KeyError(key) from None
            raise
        async with answer["Body"] as body:
            return await body.read()

    async def delete(self, key: str) -> bool:
        """Remove the object for good (an erasure request): True when it was there. Idempotent; a versioned
        bucket keeps older versions, which its own lifecycle rules must expire."""
        if await self.size(key) is None:
            return False
        await (await self._s3()).delete_object(Bucket=self.bucket, Key=self.object_name(key))
        return True

    async def size(self, key: str) -> int | None:
        """The stored object's size, or None when there is none under that key."""
        try:
            name = self.object_name(key)
        except KeyError:
            return None
        try:
            head = await (await self._s3()).head_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise
        return int(head["ContentLength"])

    async def adopt(self, path: Path, key: str) -> None:
        """Store the spooled file ``path`` (whose SHA-256 is ``key``) and remove it; one already stored under
        that key is kept as it is (same key, same bytes)."""
        try:
            if await self.size(key) is None:
                length = (await asyncio.to_thread(path.stat)).st_size
                if length <= self.part_bytes:
                    data = await asyncio.to_thread(path.read_bytes)
                    await (await self._s3()).put_object(Bucket=self.bucket, Key=self.object_name(key), Body=data)
                else:
                    await self._multipart(path, key)
        finally:
            await asyncio.to_thread(path.unlink, missing_ok=True)

    async def _multipart(self, path: Path, key: str) -> None:
        s3, name = await self._s3(), self.object_name(key)
        upload = (await s3.create_multipart_upload(Bucket=self.bucket, Key=name))["UploadId"]
        parts = []
        try:
            with path.open("rb") as source:
                number = 1
                while chunk := await asyncio.to_thread(source.read, self.part_bytes):
                    sent = await s3.upload_part(Bucket=self.bucket, Key=name, UploadId=upload, PartNumber=number,
                                                Body=chunk)
                    parts.append({"ETag": sent["ETag"], "PartNumber": number})
                    number += 1
            await s3.complete_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload,
                                               MultipartUpload={"Parts": parts})
        except BaseException:
            await s3.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload)
            raise
