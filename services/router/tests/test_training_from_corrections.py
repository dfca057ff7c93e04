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
from priyom_router.learned import as_second_opinion, fit
from priyom_router.training import corpus_examples, correction_examples, distinct, main

from .test_learned import LABELS

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
    before = as_second_opinion(fit([e.text for e in corpus], [e.label for e in corpus]))(NEW_COMPLAINT)
    for n, text in enumerate(COMPLAINTS):
        await keep(database, correction(text, ContactType.COMPLAINT, number=f"2026-{n + 100:06d}"))

    out = tmp_path / "model.joblib"
    code = await asyncio.to_thread(main, ["--database", database_url, "--corpus", str(corpus_dir),
                                          "--labels", str(LABELS), "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and out.is_file()
    assert f"{len(COMPLAINTS)} type corrections from the router's database" in printed
    assert "held-out accuracy" in printed

    corrected = [*await asyncio.to_thread(correction_examples, database_url), *corpus]
    after = as_second_opinion(fit([e.text for e in corrected], [e.label for e in corrected]))(NEW_COMPLAINT)
    assert before[0] is not ContactType.COMPLAINT  # the corpus alone has too few complaints to know this one
    assert after[0] is ContactType.COMPLAINT
