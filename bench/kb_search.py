"""Knowledge-base search latency on 10,000 articles, on SQLite and PostgreSQL: prints one JSON line.

Articles are written through the portal's own save path (Markdown rendered and sanitised, a revision, the
index entry), about 120 words each, in every visibility and status as an editor team leaves them. The
``topical`` corpus (default) gives each article one of 20 topics: its title and a quarter of its words come
from the topic's support vocabulary (Russian or English, every inflection), the rest from a large seeded
vocabulary of made-up words, so a topic word is in a few percent of the articles, as in a real base. The
``dense`` corpus draws every word from the support vocabulary alone (about 90 words), so a query's words are
in most articles: the worst case for ranking. Then each query of a fixed
mix (inflected Russian, English, one word, many words, nothing found) is run ``--rounds`` times through
:func:`priyom_portal.search_index.search` plus the snippets, as ``GET /api/v1/kb/search`` runs it: ``search``
(every word, the public audience) and ``suggest`` (any word, the last one a prefix, as the web form asks while
the customer types). Latencies are per query, in milliseconds; HTTP is left out. The tables are analysed after
the load (``ANALYZE``, as autovacuum does after a bulk load): without statistics PostgreSQL scans the
visibility index and tests every row's vector, about ten times slower.

    python bench/kb_search.py [--articles 10000] [--rounds 20] [--db sqlite|postgresql|both] [--corpus dense]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from priyom_kit.db import Database
from priyom_kit.pytest_plugin import create_pg_database, drop_pg_database
from priyom_portal import search_index, store
from priyom_portal.articles import PUBLIC, ArticleIn, Language, Status, Visibility
from priyom_portal.word_stems import snippet

RUSSIAN = (
    "принтер принтера принтеры печатает печатают печать касса кассы чек чека пробивает накопитель "
    "фискальный пароль пароля сменить смена вход входа кабинет кабинете ошибка ошибки обновление "
    "обновления конфигурация сервер сервера подключение подключается сеть сети роутер договор договора "
    "обслуживание счёт счета оплата оплаты доставка доставки заказ заказа возврат возврата сканер "
    "сканирует монитор клавиатура мышь драйвер драйвера установка установить лицензия лицензии почта "
    "почты письмо письма отчёт отчёты база данных резервная копия копии телефон звонок"
).split()
ENGLISH = (
    "printer printers printing print invoice invoices payment payments password reset login account "
    "error errors update updating server network router connection disconnecting vpn client license "
    "licenses mail report reports backup restore delivery order refund scanner driver drivers install "
    "installing keyboard monitor certificate certificates"
).split()
FILLER_RU = "и в на не что как если для при после перед чтобы или это проверьте откройте нажмите".split()
FILLER_EN = "the a to and if then check open click your is not for with".split()


def made_up_words(rng: random.Random, consonants: str, vowels: str, count: int) -> list[str]:
    syllables = [c + v for c in consonants for v in vowels]
    return ["".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(count)]


_WORDS = random.Random(7)
VOCABULARY_RU = made_up_words(_WORDS, "бвгдзклмнпрстфхцчшж", "аеиоуыэюя", 8000)
VOCABULARY_EN = made_up_words(_WORDS, "bcdfghjklmnpqrstvwxz", "aeiouy", 4000)
# 20 topics: consecutive slices of the support vocabulary, so each topic's words are inflections of a subject.
TOPICS_RU = [RUSSIAN[i : i + 6] for i in range(0, len(RUSSIAN) - 5, 5)][:17]
TOPICS_EN = [ENGLISH[i : i + 6] for i in range(0, len(ENGLISH) - 5, 5)][:7]
QUERIES = [
    "принтеры не печатают",
    "касса не пробивает чек",
    "сменить пароль",
    "ошибка обновления конфигурации",
    "vpn disconnects",
    "password reset",
    "printer",
    "резервные копии базы данных",
    "не приходит письмо на почту после смены пароля",
    "квантовый телепорт",
]
SUGGEST = ["принт", "касса не проб", "vpn disc", "у нас принтеры не печата", "пароль"]


def article(rng: random.Random, n: int, corpus: str) -> ArticleIn:
    english = rng.random() < 0.3
    words, filler = (ENGLISH, FILLER_EN) if english else (RUSSIAN, FILLER_RU)
    if corpus == "topical":
        topics = TOPICS_EN if english else TOPICS_RU
        words, filler = topics[n % len(topics)], (VOCABULARY_EN if english else VOCABULARY_RU) + filler
    title = " ".join(rng.choice(words) for _ in range(rng.randint(3, 6))).capitalize() + f" {n}"
    share = 0.25 if corpus == "topical" else 0.6
    paragraphs = [
        " ".join(rng.choice(words if rng.random() < share else filler) for _ in range(40)) + "."
        for _ in range(3)
    ]
    return ArticleIn(
        title=title,
        body="\n\n".join(f"**{p[:20]}**{p[20:]}" for p in paragraphs),
        visibility=rng.choice([Visibility.PUBLIC] * 6 + [Visibility.CLIENTS, Visibility.INTERNAL]),
        status=Status.PUBLISHED if rng.random() < 0.9 else Status.DRAFT,
        language=Language.EN if english else Language.RU,
        category="bench",
    )


async def load(database: Database, count: int, corpus: str) -> float:
    rng = random.Random(20)
    started = time.perf_counter()
    for first in range(0, count, 500):
        async with database.sessions() as session, session.begin():
            for n in range(first, min(first + 500, count)):
                await store.save_article(session, article(rng, n, corpus), "bench")
    return time.perf_counter() - started


async def timed(database: Database, queries: list[str], rounds: int, every_word: bool) -> dict[str, float]:
    latencies, hits = [], []
    async with database.sessions() as session:
        for _ in range(rounds):
            for text in queries:
                started = time.perf_counter()
                query = search_index.Query(text, PUBLIC, limit=10 if every_word else 5, every_word=every_word)
                rows = await search_index.search(session, query)
                for row in rows:
                    snippet(row.body_text, text)
                latencies.append((time.perf_counter() - started) * 1000)
                hits.append(len(rows))
    latencies.sort()
    return {
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2),
        "max_ms": round(latencies[-1], 2),
        "queries": len(latencies),
        "mean_hits": round(sum(hits) / len(hits), 1),
    }


async def run(url: str, args: argparse.Namespace) -> dict[str, object]:
    await asyncio.to_thread(store.migrate_database, url)
    database = Database(url)
    await database.open()
    try:
        load_s = await load(database, args.articles, args.corpus)
        async with database.sessions() as session:  # the statistics autovacuum gathers after a bulk load
            await session.execute(text("ANALYZE"))
            await session.commit()
        await timed(database, QUERIES, 1, True)  # warm the caches and the plans
        return {
            "load_s": round(load_s, 1),
            "search": await timed(database, QUERIES, args.rounds, True),
            "suggest": await timed(database, SUGGEST, args.rounds, False),
        }
    finally:
        await database.close()


async def main(args: argparse.Namespace) -> dict[str, object]:
    result: dict[str, object] = {"articles": args.articles, "corpus": args.corpus, "rounds": args.rounds}
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            result["sqlite"] = await run(f"sqlite+aiosqlite:///{Path(tmp) / 'kb.db'}", args)
    if args.db in ("postgresql", "both"):
        url = await create_pg_database("priyom_bench_")
        try:
            result["postgresql"] = await run(url, args)
        finally:
            await drop_pg_database(url)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--corpus", choices=["topical", "dense"], default="topical")
    print(json.dumps(asyncio.run(main(parser.parse_args())), ensure_ascii=False))
