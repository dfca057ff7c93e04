"""Router decisions per second: the pure decision, and the running service on the real broker and database.

1. ``pure``: :func:`priyom_router.routing.decide` with the built-in rule book and the built-in learned model
   (as the router runs by default) on a fixed mix of Russian and English texts (every rule, texts only the
   model decides, quoted history, long bodies), no I/O; ``pure_rules_only`` the same with the model off
   (``ROUTER_CLASSIFIER=false``); ``model`` the model's guesses alone on texts already read.
2. ``service``: the router as ``python -m priyom_router`` builds it, started in this process on a fresh
   database and its own bus prefix; N ``contact.identified`` published with up to ``--concurrency`` in
   flight, timed until N ``contact.routed`` arrived. Each decision records its assignment, a balanced pick
   under its team group's lock, so this is the figure that bounds a deployment. ``cpu_ms_per_decision`` is
   the whole process's CPU (router and the bench's publisher) per decision. The model is on, as by default.

    python bench/router.py [--n 2000] [--concurrency 64] [--db sqlite|postgresql] [--pure-n 20000] [--pure-only]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aio_pika

from priyom_contracts import ClientMatch, Contact, ContactIdentified, MatchKind, Sender, Topology
from priyom_kit import build_app
from priyom_kit.pytest_plugin import create_pg_database, delete_prefixed, drop_pg_database
from priyom_router.app import build
from priyom_router.assignment import Roster
from priyom_router.contact_type import SecondOpinion
from priyom_router.learned import built_in_model
from priyom_router.own_text import reading
from priyom_router.routing import decide
from priyom_router.rules import default_rule_text, parse_rule_book
from priyom_router.settings import RouterSettings
from priyom_router.store import migrate_database
from priyom_testing.apps import started as started_app

AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
TEXTS = [
    ("Претензия", "Пишу претензию: заказ пришёл повреждённым, верните деньги."),
    ("Не работает касса", "Кассовый аппарат сломался после обновления, ошибка 502 при печати чека. Срочно!"),
    ("Коммерческое предложение", "Хотим приобрести 20 лицензий, пришлите стоимость и условия."),
    ("Вопрос", "Подскажите, пожалуйста, до скольки вы работаете в субботу?"),
    ("Broken terminal", "Our terminal is broken again and shows an error on startup."),
    ("Quote", "Please send a quote for 50 seats, annual billing."),
    ("Hello", "Just wanted to say thanks for the quick help last week. " * 40),
    ("Delivery Status Notification (Failure)", "Delivery to the following recipient failed permanently."),
    ("Re: Заявка 2025-004411", "Спасибо, всё заработало! А где теперь журнал отправленных отчётов?\n\n"
                               "> СРОЧНО! Не работает проведение\n> Инженер Олег Петров"),
    ("Обновление", "Прошу в рамках договора сопровождения обновить конфигурацию 1С до актуального релиза."),
    ("", "вы обещали перезвонить ещё во вторник, сегодня пятница. кто за это отвечает?"),
    ("", "ne rabotaet 1s posle obnovleniya, pomogite pozhaluysta"),
]


def contact(i: int) -> Contact:
    subject, body = TEXTS[i % len(TEXTS)]
    return Contact(contact_id=uuid.uuid4(), received_at=datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
                   sender=Sender(email=f"c{i}@example.ru"), subject=subject, body=body)


def client(i: int) -> ClientMatch:
    return ClientMatch(client_id=uuid.uuid4(), first_contact=False, match=MatchKind.EXACT_EMAIL,
                       sla_tier="premium" if i % 5 == 0 else "standard")


def bench_pure(n: int, model: SecondOpinion | None) -> dict[str, float]:
    book = parse_rule_book(default_rule_text())
    contacts = [(contact(i), client(i)) for i in range(len(TEXTS) * 4)]
    roster = Roster()
    started = time.perf_counter()
    by_model = 0
    for i in range(n):
        c, m = contacts[i % len(contacts)]
        decision = decide(c, "email", m, book, roster, second_opinion=model)
        by_model += decision.classification.guess is not None
    elapsed = time.perf_counter() - started
    return {"decisions": n, "seconds": round(elapsed, 3), "per_second": round(n / elapsed),
            "decided_by_the_model": round(by_model / n, 2)}


def bench_model(n: int) -> dict[str, float]:
    model = built_in_model()
    texts = [reading(subject, body) for subject, body in TEXTS]
    started = time.perf_counter()
    for i in range(n):
        model(texts[i % len(texts)])
    elapsed = time.perf_counter() - started
    return {"guesses": n, "seconds": round(elapsed, 3), "per_second": round(n / elapsed)}


async def bench_service(n: int, concurrency: int, db: str, classifier: bool = True) -> dict[str, float | str]:
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    workdir = Path(tempfile.mkdtemp(prefix="router-bench-"))
    url = await create_pg_database() if db == "postgresql" else f"sqlite+aiosqlite:///{workdir / 'router.db'}"
    try:
        await asyncio.to_thread(migrate_database, url)
        settings = RouterSettings(ROUTER_DATABASE_URL=url, AMQP_URL=AMQP_URL, PRIYOM_BUS_PREFIX=prefix,
                                  PRIYOM_PREFETCH=concurrency, LOG_LEVEL="WARNING",
                                  ROUTER_CLASSIFIER=classifier)
        parts = build(settings)
        app = build_app(parts)
        async with started_app(app):
            connection = await aio_pika.connect(AMQP_URL)
            async with connection:
                channel = await connection.channel()
                exchange = await channel.get_exchange(Topology(prefix).exchange)
                queue = await channel.declare_queue(exclusive=True, auto_delete=True)
                await queue.bind(exchange, routing_key="contact.routed.v1.*")
                events = [ContactIdentified(correlation_id=(c := contact(i)).contact_id, channel="email",
                                            idempotency_key=f"bench:{i}:{uuid.uuid4()}", contact=c,
                                            client=client(i)) for i in range(n)]
                gate = asyncio.Semaphore(concurrency)
                received = 0
                done = asyncio.Event()

                async def on_routed(message: aio_pika.abc.AbstractIncomingMessage) -> None:
                    nonlocal received
                    await message.ack()
                    gate.release()
                    received += 1
                    if received == n:
                        done.set()

                await queue.consume(on_routed)
                started, cpu_started = time.perf_counter(), time.process_time()
                for event in events:
                    await gate.acquire()
                    await parts.bus.publish(event)
                await asyncio.wait_for(done.wait(), timeout=600)
                elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        # CPU of this whole process: the router, and the bench's own publishing and consuming.
        return {"decisions": n, "db": db, "concurrency": concurrency, "classifier": classifier,
                "seconds": round(elapsed, 3),
                "per_second": round(n / elapsed, 1), "cpu_ms_per_decision": round(cpu * 1000 / n, 2)}
    finally:
        await delete_prefixed(AMQP_URL, prefix)
        if db == "postgresql":
            await drop_pg_database(url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--pure-n", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--no-classifier", action="store_true", help="the service with ROUTER_CLASSIFIER=false")
    parser.add_argument("--pure-only", action="store_true", help="no broker or database: the pure figures only")
    args = parser.parse_args()
    built_in_model()  # read once, as a router process does at start
    result: dict[str, object] = {"pure": bench_pure(args.pure_n, built_in_model()),
                                 "pure_rules_only": bench_pure(args.pure_n, None),
                                 "model": bench_model(args.pure_n)}
    if not args.pure_only:
        result["service"] = asyncio.run(bench_service(args.n, args.concurrency, args.db, not args.no_classifier))
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
