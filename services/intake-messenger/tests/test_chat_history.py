"""The chat's memory on SQLite and PostgreSQL: tokens rotate and only their hashes are kept, a line is kept once
under its id, and an erasure takes the conversations answered on the person's tickets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from priyom_intake_messenger.chat.history import ChatHistory, Line, token_hash
from priyom_intake_messenger.store import chat_visitors, migrate_database
from priyom_kit.testing import migrated_database


async def test_a_visit_rotates_the_token_and_the_database_holds_only_hashes(database_url: str) -> None:
    async with migrated_database(database_url, migrate_database) as database:
        history = ChatHistory(lambda: database.sessions)
        visitor, first = await history.open_visit("shop", None)
        same, second = await history.open_visit("shop", first)
        again, third = await history.open_visit("shop", first)  # the token before the last: still opens
        assert visitor == same == again and len({first, second, third}) == 3
        other, _ = await history.open_visit("other-site", third)  # a token opens its own site only
        assert other != visitor
        async with database.sessions() as session:
            stored = (
                await session.execute(
                    select(chat_visitors.c.token_hash, chat_visitors.c.previous_hash).where(
                        chat_visitors.c.visitor_id == visitor
                    )
                )
            ).one()
        assert tuple(stored) == (token_hash(third), token_hash(first))
        _, fourth = await history.open_visit("shop", second)  # rotated out twice: a new visitor
        assert (await history.open_visit("shop", fourth))[0] != visitor


async def test_a_line_is_kept_once_and_an_erasure_takes_the_answered_conversations(database_url: str) -> None:
    async with migrated_database(database_url, migrate_database) as database:
        history = ChatHistory(lambda: database.sessions)
        answered, untouched = (
            (await history.open_visit("shop", None))[0],
            (await history.open_visit("shop", None))[0],
        )
        at = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
        for visitor in (answered, untouched):
            await history.add(visitor, Line("in", "m-00000001", "Не проходит оплата", at))
            await history.add(visitor, Line("in", "m-00000001", "a resend changes nothing", at))
        await history.add(
            answered,
            Line("out", "r-1", "Проверьте ещё раз", at + timedelta(minutes=1), ticket_number="2026-000777"),
        )
        await history.add(
            untouched,
            Line("out", "r-2", "Другой ответ", at + timedelta(minutes=1), ticket_number="2026-000778"),
        )
        assert [(line.direction, line.body) for line in await history.latest(answered, 10)] == [
            ("in", "Не проходит оплата"),
            ("out", "Проверьте ещё раз"),
        ]

        assert await history.erase_tickets(["2026-000777"]) == 2
        assert await history.erase_tickets(["2026-000777"]) == 0
        assert await history.latest(answered, 10) == []
        assert len(await history.latest(untouched, 10)) == 2
