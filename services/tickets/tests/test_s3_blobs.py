"""Attachments in an S3-compatible bucket (``PRIYOM_BLOB_S3_BUCKET``): the kit's store and the tickets
service on it, end to end through the API.

The server is moto's S3 in server mode: a local HTTP server speaking the S3 wire protocol (signatures,
multipart uploads, HEAD, 404s), so the real aiobotocore client is exercised over a socket. It is a faithful
fake of the protocol, not AWS or MinIO; behaviour only a real object store shows (consistency under load,
provider quirks) is not covered here.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from priyom_contracts import AttachmentRef
from priyom_kit.blobs import FileBlobStore, open_blob_store
from priyom_testing.apps import started
from priyom_tickets.app import build, create_app
from priyom_tickets.settings import TicketsSettings

moto_server = pytest.importorskip("moto.server", reason="moto[server] is not installed (requirements-dev)")
pytest.importorskip("aiobotocore", reason="aiobotocore is not installed (priyom-kit's dependencies)")
from priyom_kit.s3_blobs import S3BlobStore  # noqa: E402 - only once aiobotocore is known to be there

from .conftest import authenticate  # noqa: E402

AGENT = {"Authorization": "Bearer agent-token"}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
async def bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    for name, value in (("AWS_ACCESS_KEY_ID", "priyom-test"), ("AWS_SECRET_ACCESS_KEY", "priyom-test-secret"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    name = f"priyom-{uuid.uuid4().hex[:12]}"
    store = S3BlobStore(name, endpoint_url=s3_endpoint)
    await (await store._s3()).create_bucket(Bucket=name)
    await store.close()
    yield name


async def test_the_settings_pick_the_store(bucket: str, s3_endpoint: str, tmp_path: Path) -> None:
    files = open_blob_store(TicketsSettings(PRIYOM_BLOB_DIR=str(tmp_path)))
    assert isinstance(files, FileBlobStore) and files.root == tmp_path
    s3 = open_blob_store(TicketsSettings(PRIYOM_BLOB_S3_BUCKET=bucket, PRIYOM_BLOB_S3_ENDPOINT=s3_endpoint,
                                         PRIYOM_BLOB_S3_PREFIX="att/"))
    assert isinstance(s3, S3BlobStore) and (s3.bucket, s3.prefix) == (bucket, "att/")


async def test_put_get_size_and_a_missing_key(bucket: str, s3_endpoint: str, tmp_path: Path) -> None:
    store = S3BlobStore(bucket, endpoint_url=s3_endpoint, prefix="blobs/")
    try:
        data = "Акт осмотра котла".encode() * 100
        key = await store.put(data)
        assert key == hashlib.sha256(data).hexdigest()
        assert await store.put(data) == key  # content-addressed: the same bytes are one object
        assert await store.get(key) == data
        assert await store.size(key) == len(data)
        assert store.object_name(key) == f"blobs/{key[:2]}/{key[2:]}"
        absent = "0" * 64
        assert await store.size(absent) is None
        assert await store.size("../../etc/passwd") is None
        with pytest.raises(KeyError):
            await store.get(absent)
        with pytest.raises(KeyError):
            await store.get("not-a-key")
        # An erasure request: the object goes, and a second delete is harmless.
        assert await store.delete(key) is True
        assert await store.size(key) is None and await store.delete(key) is False
    finally:
        await store.close()


async def test_a_large_spooled_file_goes_up_in_parts(bucket: str, s3_endpoint: str, tmp_path: Path) -> None:
    store = S3BlobStore(bucket, endpoint_url=s3_endpoint, part_bytes=5 * 1024 * 1024)
    big = os.urandom(12 * 1024 * 1024 + 17)  # three parts, the last one short
    spooled = tmp_path / "upload.part"
    await asyncio.to_thread(spooled.write_bytes, big)
    key = hashlib.sha256(big).hexdigest()
    try:
        await store.adopt(spooled, key)
        assert not spooled.exists()  # the spool is gone once the object is there
        assert await store.size(key) == len(big)
        assert await store.get(key) == big
    finally:
        await store.close()


async def test_tickets_keeps_uploads_in_the_bucket_and_serves_them_back(
    bucket: str, s3_endpoint: str, migrated_url: str, cleanup_bus: str, amqp_url: str, tmp_path: Path,
    make_routed, database, inbox,
) -> None:
    settings = TicketsSettings(TICKETS_DATABASE_URL=migrated_url, PRIYOM_BUS_PREFIX=cleanup_bus, AMQP_URL=amqp_url,
                               PRIYOM_BLOB_DIR=str(tmp_path / "spool"), PRIYOM_BLOB_S3_BUCKET=bucket,
                               PRIYOM_BLOB_S3_ENDPOINT=s3_endpoint)
    parts = build(settings, authenticator=authenticate)
    app = create_app(parts)
    from priyom_tickets.handlers import register_contact  # noqa: PLC0415

    async with started(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                       base_url="http://tickets.test", timeout=60) as client:
        # A customer's attachment, written by an intake service to the same bucket.
        s3 = S3BlobStore(bucket, endpoint_url=s3_endpoint, prefix=settings.blob_s3_prefix)
        scan = b"%PDF-1.7 customer scan"
        scan_key = await s3.put(scan)
        created, _ = await register_contact(database.sessions, inbox, make_routed(attachments=[AttachmentRef(
            blob_key=scan_key, filename="scan.pdf", content_type="application/pdf", size=len(scan))]))
        number = created.number

        small = b"\x89PNG\r\n\x1a\n" + bytes(300)
        large = b"%PDF-1.4\n" + os.urandom(9 * 1024 * 1024)
        uploaded = await client.post(f"/api/v1/tickets/{number}/attachments", headers=AGENT,
                                     files=[("files", ("photo.png", small)), ("files", ("report.pdf", large))])
        assert uploaded.status_code == 201, uploaded.text
        refs = uploaded.json()
        assert [(r["filename"], r["size"], r["content_type"]) for r in refs] == [
            ("photo.png", len(small), "image/png"), ("report.pdf", len(large), "application/pdf")]
        assert await s3.size(refs[1]["blob_key"]) == len(large)
        assert list((tmp_path / "spool").glob("**/*.*")) == []  # nothing left in the spool

        # A reference the bucket does not hold (or with another size) is refused.
        forged = {**refs[0], "size": refs[0]["size"] + 1}
        refused = await client.post(f"/api/v1/tickets/{number}/replies", headers=AGENT,
                                    json={"body": "Смотрите вложения", "attachments": [forged]})
        assert refused.status_code == 422

        ticket = (await client.get(f"/api/v1/tickets/{number}", headers=AGENT)).json()
        [inbound] = ticket["messages"][0]["attachments"]
        download = await client.get(f"/api/v1/tickets/{number}/attachments/{inbound['id']}", headers=AGENT)
        assert (download.status_code, download.content) == (200, scan)
        await s3.close()
