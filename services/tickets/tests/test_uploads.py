"""Attachments on replies: sniffed types, many files, large files, the size cap, and the reply carrying them."""

from __future__ import annotations

import hashlib
import os

import pytest
from sqlalchemy import select

from priyom_tickets import tables
from priyom_tickets.uploads import sniff

AGENT = {"Authorization": "Bearer agent-token"}
MIB = 1 << 20


@pytest.mark.parametrize(("head", "name", "kind"), [
    (b"%PDF-1.7\n", "акт.pdf", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "screen.png", "image/png"),
    (b"\xff\xd8\xff\xe0", "photo.JPG", "image/jpeg"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "sticker.webp", "image/webp"),
    (b"PK\x03\x04\x14\x00", "договор.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (b"PK\x03\x04\x14\x00", "logs.zip", "application/zip"),
    ("Серийный номер: 123".encode(), "serial.txt", "text/plain"),
    ("обрезанный символ ю".encode()[:-1], "cut.txt", "text/plain"),
    (b"MZ\x90\x00\x03\x00", "invoice.pdf", "application/octet-stream"),  # a program calling itself a PDF
    (b"\x00\x01\x02\x03", "data.bin", "application/octet-stream"),
])
def test_type_is_what_the_bytes_say(head: bytes, name: str, kind: str) -> None:
    assert sniff(head, name) == kind


async def upload(tickets, number: str, files: list[tuple[str, bytes]]):
    return await tickets.client.post(f"/api/v1/tickets/{number}/attachments", headers=AGENT,
                                     files=[("files", (name, content, "application/pdf")) for name, content in files])


async def test_many_files_and_a_large_one_go_out_with_the_reply(tickets, make_routed) -> None:
    number = (await tickets.register(make_routed(channel="email"))).number
    many = [(f"фото-{i}.png", b"\x89PNG\r\n\x1a\n" + os.urandom(1000 + i)) for i in range(19)]
    large = os.urandom(24 * MIB)
    uploaded = await upload(tickets, number, [*many, ("журнал.bin", large)])
    assert uploaded.status_code == 201, uploaded.text
    refs = uploaded.json()
    assert len(refs) == 20
    assert refs[0]["content_type"] == "image/png"  # sniffed, not the claimed application/pdf
    assert refs[-1] == {"blob_key": hashlib.sha256(large).hexdigest(), "filename": "журнал.bin",
                        "content_type": "application/octet-stream", "size": 24 * MIB}

    sent = await tickets.client.post(f"/api/v1/tickets/{number}/replies", headers=AGENT,
                                     json={"body": "Во вложении фото и журнал", "attachments": refs})
    assert sent.status_code == 202, sent.text
    detail = (await tickets.client.get(f"/api/v1/tickets/{number}", headers=AGENT)).json()
    reply = detail["messages"][-1]
    assert sorted(a["filename"] for a in reply["attachments"]) == sorted(r["filename"] for r in refs)
    big = next(a for a in reply["attachments"] if a["filename"] == "журнал.bin")
    download = await tickets.client.get(f"/api/v1/tickets/{number}/attachments/{big['id']}", headers=AGENT)
    assert download.status_code == 200 and download.content == large
    async with tickets.database.sessions() as session:
        staged = (await session.execute(select(tables.ticket_outbox.c.payload)
                                        .where(tables.ticket_outbox.c.event_type == "reply.outbound.v1"))).scalars()
        outbound = [p for p in staged if p["reply_id"] == sent.json()["reply_id"]]
    assert len(outbound[0]["attachments"]) == 20


async def test_what_is_refused(tickets, make_routed) -> None:
    number = (await tickets.register(make_routed(channel="email"))).number
    blobs = tickets.blobs.root

    def stored() -> set[str]:
        return {str(p) for p in blobs.rglob("*") if p.is_file()} if blobs.exists() else set()

    before = stored()
    over = await upload(tickets, number, [("huge.bin", b"\x00" * (25 * MIB + 1))])
    assert over.status_code == 413
    assert stored() == before  # nothing kept of it, not even a temporary file
    too_many = await upload(tickets, number, [(f"{i}.txt", b"x") for i in range(21)])
    assert too_many.status_code == 400
    assert (await tickets.client.post(f"/api/v1/tickets/{number}/attachments", headers=AGENT,
                                      data={"note": "no files"})).status_code == 422
    forged = {"blob_key": "a" * 64, "filename": "x.pdf", "content_type": "application/pdf", "size": 10}
    refused = await tickets.client.post(f"/api/v1/tickets/{number}/replies", headers=AGENT,
                                        json={"body": "Вложение", "attachments": [forged]})
    assert refused.status_code == 422
    real = (await upload(tickets, number, [("a.txt", b"hello")])).json()[0]
    lied = await tickets.client.post(f"/api/v1/tickets/{number}/replies", headers=AGENT,
                                     json={"body": "Вложение", "attachments": [{**real, "size": 999}]})
    assert lied.status_code == 422
    assert (await tickets.client.post("/api/v1/tickets/1999-000001/attachments", headers=AGENT,
                                      files=[("files", ("a.txt", b"x"))])).status_code == 404
