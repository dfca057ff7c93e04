"""Agents' type corrections feed the next training: kept from the bus, read by ``make train-router``.

The complaint texts below are written for these tests (the corpus holds almost no customer complaints,
which is exactly the gap corrections fill); they check the path, not the model's quality.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from priyom_contracts import ContactType, TicketTypeCorrected, utcnow
from priyom_kit import ServiceParts
from priyom_kit.db import Database
from priyom_router import handlers, store
from priyom_router.model_fit import fit
from priyom_router.own_text import reading
from priyom_router.training import corpus_examples, correction_examples, distinct, main

from .test_learned import CONTACTS, LABELS

COMPLAINTS = [
    "Курьер опоздал на три дня, коробка пришла мятая, требую вернуть деньги за доставку",
    "Третий раз привозят не тот товар, менеджер не перезванивает, это безобразие",
    "Посылку бросили у двери, она промокла, верните стоимость",
    "Заказ пришёл разбитым, упаковка порвана, прошу компенсацию",
    "Ваш курьер нагрубил и уехал, не отдав заказ, требую разобраться",
    "Списали деньги дважды, а заказ так и не доставили, верните деньги",
    "The courier was three days late and the box arrived crushed, I want my delivery fee back",
    "Wrong item delivered for the third time and nobody calls back, this is unacceptable",
]
NEW_COMPLAINT = "Курьер опоздал на неделю, коробка мятая, требую вернуть деньги"


def correction(text: str, new_type: ContactType, *, contact_id: uuid.UUID | None = None,
               number: str = "2026-000001", at_offset: timedelta = timedelta()) -> TicketTypeCorrected:
    cid = contact_id or uuid.uuid4()
    return TicketTypeCorrected(correlation_id=cid, channel="email", idempotency_key=f"fix:{cid}:{new_type}",
                               occurred_at=utcnow() + at_offset, number=number, contact_id=cid,
                               old_type=ContactType.INFORMATION_REQUEST, new_type=new_type,
                               corrected_by="Анна Орлова", subject="Жалоба", text=text)


async def keep(database: Database, event: TicketTypeCorrected) -> None:
    await handlers.on_ticket_type_corrected(event, sessions=database.sessions)


async def test_corrections_are_kept_and_the_latest_one_wins(database: Database) -> None:
    first = correction(COMPLAINTS[0], ContactType.SERVICE_REQUEST, number="2026-000010")
    await keep(database, first)
    cid = first.contact_id
    await keep(database, correction(COMPLAINTS[0], ContactType.COMPLAINT, contact_id=cid, number="2026-000010",
                                    at_offset=timedelta(minutes=5)))
    # An older correction delivered late (a retry) does not undo the newer one.
    await keep(database, correction(COMPLAINTS[0], ContactType.PURCHASE_INTEREST, contact_id=cid,
                                    number="2026-000010", at_offset=timedelta(minutes=1)))
    async with database.sessions() as session:
        kept = await store.corrections(session)
    assert [(c.ticket_number, c.type, c.subject, c.text) for c in kept] == [
        ("2026-000010", ContactType.COMPLAINT, "Жалоба", COMPLAINTS[0])]


async def test_a_correction_on_the_bus_reaches_the_training_set(parts: ServiceParts, app: object,
                                                               database_url: str) -> None:
    event = correction(COMPLAINTS[1], ContactType.COMPLAINT, number="2026-000011")
    await parts.bus.publish(event)
    for _ in range(300):
        found = await asyncio.to_thread(correction_examples, database_url)
        if found:
            break
        await asyncio.sleep(0.05)
    assert [(e.label, e.source) for e in found] == [(ContactType.COMPLAINT, "ticket 2026-000011")]
    assert found[0].text == f"Жалоба\n{COMPLAINTS[1]}"


def test_a_missing_sqlite_database_gives_no_corrections_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "router.db"
    assert correction_examples(f"sqlite+aiosqlite:///{path}") == []
    assert not path.exists()


async def test_training_learns_what_agents_corrected(database: Database, database_url: str, corpus_dir: Path,
                                                    tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = distinct(corpus_examples(corpus_dir, LABELS))
    before = fit(corpus)(reading(None, NEW_COMPLAINT)).type
    for n, text in enumerate(COMPLAINTS):
        await keep(database, correction(text, ContactType.COMPLAINT, number=f"2026-{n + 100:06d}"))

    out = tmp_path / "model.json"
    code = await asyncio.to_thread(main, ["--database", database_url, "--corpus", str(corpus_dir),
                                          "--labels", str(LABELS), "--heldout", str(CONTACTS / "heldout.jsonl"),
                                          "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and out.is_file()
    assert f"{len(COMPLAINTS)} type corrections from the router's database" in printed
    assert "held-out accuracy" in printed

    corrected = [*await asyncio.to_thread(correction_examples, database_url), *corpus]
    after = fit(corrected)(reading(None, NEW_COMPLAINT)).type
    assert before is not ContactType.COMPLAINT  # the corpus alone has too few complaints to know this one
    assert after is ContactType.COMPLAINT


async def test_an_erasure_redacts_the_persons_examples_and_training_skips_them(database: Database) -> None:
    from priyom_contracts import PersonErased
    from priyom_router import erasure_redaction

    theirs = correction("Пишет Ольга Зимина: " + COMPLAINTS[1], ContactType.COMPLAINT, number="2026-000031")
    others = correction(COMPLAINTS[2], ContactType.COMPLAINT, number="2026-000032")
    await keep(database, theirs)
    await keep(database, others)
    erasure_id = uuid.uuid4()
    erasure = PersonErased(correlation_id=erasure_id, channel="api", idempotency_key=f"erasure:{erasure_id}",
                           erasure_id=erasure_id, client_id=uuid.uuid4(), ticket_numbers=["2026-000031"])
    for _ in range(2):  # a repeat redacts the same row again
        async with database.sessions() as session, session.begin():
            assert await erasure_redaction.redact(session, erasure) == {"router.type_corrections": 1}
    async with database.sessions() as session:
        texts = [c.text for c in await store.corrections(session)]
    assert COMPLAINTS[2] in texts and not any("Зимина" in t for t in texts) and len(texts) == 1


async def test_the_subject_export_holds_the_persons_corrections_and_no_one_elses(database: Database) -> None:
    import httpx
    from fastapi import FastAPI
    from pydantic import SecretStr

    from priyom_contracts import PersonRecords
    from priyom_kit.auth import admin_token_authenticator
    from priyom_router.subject_export import subject_export_router

    theirs = correction("Пишет Ольга Зимина: " + COMPLAINTS[1], ContactType.COMPLAINT, number="2026-000041")
    others = correction(COMPLAINTS[2], ContactType.COMPLAINT, number="2026-000042")
    await keep(database, theirs)
    await keep(database, others)
    app = FastAPI()
    app.state.authenticator = admin_token_authenticator(SecretStr("router-export-admin-token"))
    app.include_router(subject_export_router(database))
    scope = PersonRecords(client_id=uuid.uuid4(), ticket_numbers=["2026-000041"]).model_dump(mode="json")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://router.test") as client:
        assert (await client.post("/api/v1/internal/subject-export", json=scope)).status_code == 401
        answer = await client.post("/api/v1/internal/subject-export", json=scope,
                                   headers={"Authorization": "Bearer router-export-admin-token"})
    assert answer.status_code == 200, answer.text
    rows = answer.json()["records"]["type_corrections"]
    assert [r["ticket_number"] for r in rows] == ["2026-000041"] and "Зимина" in rows[0]["text"]
