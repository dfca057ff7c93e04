"""The parse memory budget and the fetch plan, without I/O; and a mail over the budget dead-lettered with the
reason through the real SMTP endpoint and RabbitMQ."""

from __future__ import annotations

import asyncio

import aiosmtplib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from priyom_intake_email.app import create_app
from priyom_intake_email.imap.plan import FetchBatch, fetch_batches, fetched_sizes
from priyom_intake_email.memory import ByteBudget, OverBudget
from priyom_intake_email.settings import IntakeEmailSettings
from priyom_testing.apps import started

from .conftest import BusReader, original_of

MiB = 1024 * 1024


async def test_the_budget_bounds_what_is_reserved_at_once_and_serves_in_order() -> None:
    budget = ByteBudget(10, factor=1)
    order: list[str] = []
    peak = 0

    async def parse(name: str, size: int, hold: float) -> None:
        nonlocal peak
        async with budget.reserve(size):
            order.append(name)
            peak = max(peak, budget.in_use)
            await asyncio.sleep(hold)

    # "big" arrives while "a" holds 6 of 10: it waits, and "c" (small, would fit) waits behind it.
    await asyncio.gather(parse("a", 6, 0.05), parse("big", 9, 0.01), parse("c", 1, 0))
    assert order == ["a", "big", "c"]
    assert peak <= 10 and budget.in_use == 0 and budget.waiting == 0


async def test_a_cancelled_waiter_gives_its_turn_away() -> None:
    budget = ByteBudget(10, factor=1)
    async with budget.reserve(8):
        waiter = asyncio.create_task(_reserve(budget, 5))
        behind = asyncio.create_task(_reserve(budget, 2))
        await asyncio.sleep(0.01)
        assert budget.waiting == 2
        waiter.cancel()
        await asyncio.sleep(0.01)
        assert behind.done()  # 8 + 2 fits once the head of the queue is gone
    assert budget.in_use == 0


async def _reserve(budget: ByteBudget, size: int) -> None:
    async with budget.reserve(size):
        pass


async def test_a_mail_needing_more_than_the_whole_budget_is_refused() -> None:
    budget = ByteBudget(16 * MiB)  # 12 bytes of parse memory per byte of mail
    with pytest.raises(OverBudget, match="parse memory budget"):
        async with budget.reserve(2 * MiB):
            pass
    async with budget.reserve(MiB):
        assert budget.in_use == 12 * MiB


def test_fetched_sizes_reads_uid_and_size_in_any_order() -> None:
    lines = [b"1 FETCH (UID 7 RFC822.SIZE 1200)", b"2 FETCH (RFC822.SIZE 99 UID 9)", b"Fetch completed."]
    assert fetched_sizes(lines) == {7: 1200, 9: 99}


def test_fetch_batches_are_bounded_by_count_and_bytes_and_oversized_mail_goes_alone() -> None:
    sizes = {1: 400, 2: 400, 3: 400, 4: 5000, 5: 100, 6: 100, 7: 100}
    batches = fetch_batches([1, 2, 3, 4, 5, 6, 7, 8], sizes, max_count=2, max_bytes=900, max_message_bytes=1000)
    assert batches == [FetchBatch([1, 2]), FetchBatch([3]), FetchBatch([4], oversized=True), FetchBatch([5, 6]),
                       FetchBatch([7, 8])]  # 8 has no size: expunged meanwhile, costs nothing
    assert fetch_batches([1], {1: 5000}, max_count=10, max_bytes=100, max_message_bytes=10_000) == [FetchBatch([1])]


async def test_smtp_mail_over_the_parse_memory_budget_is_a_contact_with_the_reason(
        settings: IntakeEmailSettings, bus_reader: BusReader) -> None:
    config = settings.model_copy(update={"smtp_max_bytes": 4 * MiB, "parse_memory_bytes": 16 * MiB})
    big = (b"From: a@example.org\r\nTo: support@priyom.local\r\nSubject: scan\r\nMessage-ID: <scan@example.org>\r\n\r\n"
           + (b"z" * 76 + b"\r\n") * (2 * MiB // 78))
    app = create_app(config)
    async with started(app):
        errors, answer = await aiosmtplib.send(big, sender="a@example.org", recipients=["support@priyom.local"],
                                               hostname="127.0.0.1", port=config.smtp_port, start_tls=False,
                                               timeout=30)
        [event] = await bus_reader.contacts(1)
        original = await original_of(config, event)
    assert errors == {} and "queued" in answer  # told 250, and it is a contact: an agent will see it
    assert "parse memory budget" in (event.contact.unread_reason or "")
    assert "parse memory budget" in event.contact.body and event.contact.subject == "scan"
    assert event.contact.sender.email == "a@example.org"
    assert original.replace(b"\r\n", b"\n") == big.replace(b"\r\n", b"\n")  # never parsed, kept whole
    assert await bus_reader.dead_letters(1, timeout=0.2) == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 5000), max_size=60), st.integers(1, 10), st.integers(1, 3000),
       st.integers(1, 4000))
def test_fetch_batches_keep_uid_order_and_their_bounds(sizes: list[int], max_count: int, max_bytes: int,
                                                       max_message: int) -> None:
    uids = list(range(1, len(sizes) + 1))
    by_uid = dict(zip(uids, sizes, strict=True))
    batches = fetch_batches(uids, by_uid, max_count=max_count, max_bytes=max_bytes, max_message_bytes=max_message)
    assert [uid for batch in batches for uid in batch.uids] == uids  # every UID once, in order
    for batch in batches:
        assert batch.uids and len(batch.uids) <= max_count
        if batch.oversized:
            assert len(batch.uids) == 1 and by_uid[batch.uids[0]] > max_message
        else:
            assert all(by_uid[uid] <= max_message for uid in batch.uids)
            assert len(batch.uids) == 1 or sum(by_uid[uid] for uid in batch.uids) <= max_bytes


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=60), max_size=20))
def test_fetched_sizes_never_fails_on_garbage(lines: list[bytes]) -> None:
    sizes = fetched_sizes(lines)
    assert all(isinstance(uid, int) and isinstance(size, int) for uid, size in sizes.items())
