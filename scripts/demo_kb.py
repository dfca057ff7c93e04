"""Load demo knowledge-base articles into the portal: ``python scripts/demo_kb.py``.

Waits for the portal's ``/health``, then writes each article through ``POST /api/v1/kb/articles`` with the
admin token. Idempotent: an article whose title is already there is left alone. Run by ``make up``; safe to
run again by hand. Token and waiting as in ``scripts/demo_data.py``; address ``--portal`` (default
``http://127.0.0.1:$PORTAL_PORT``, port 8007). Only the standard library.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import urllib.error
import urllib.request

from demo_data import admin_token, post_client, wait_healthy

#: Articles as the portal's API takes them, in both languages and every visibility.
ARTICLES = [
    {
        "title": "Принтер не печатает",
        "category": "оборудование",
        "language": "ru",
        "visibility": "public",
        "status": "published",
        "body": "Если **принтер** не печатает:\n\n1. Проверьте, что он включён и в лотке "
        "есть бумага.\n2. Откройте очередь печати и удалите зависшие задания.\n3. Перезагрузите принтер.\n\n"
        "Не помогло — оставьте заявку, указав модель принтера.",
    },
    {
        "title": "Как сменить пароль в личном кабинете",
        "category": "учётная запись",
        "language": "ru",
        "visibility": "public",
        "status": "published",
        "body": "Откройте **Профиль → Безопасность** и нажмите "
        "«Сменить пароль». Новый пароль должен быть не короче 12 символов.",
    },
    {
        "title": "Касса не пробивает чек",
        "category": "кассы",
        "language": "ru",
        "visibility": "clients",
        "status": "published",
        "body": "Проверьте связь с ОФД и срок действия фискального накопителя. Клиентам "
        "с договором обслуживания выезд инженера бесплатен.",
    },
    {
        "title": "Сброс спулера печати на сервере",
        "category": "оборудование",
        "language": "ru",
        "visibility": "internal",
        "status": "published",
        "body": "Для инженеров: `net stop spooler`, очистить "
        "`C:\\Windows\\System32\\spool\\PRINTERS`, `net start spooler`.",
    },
    {
        "title": "The VPN client keeps disconnecting",
        "category": "network",
        "language": "en",
        "visibility": "public",
        "status": "published",
        "body": "Update the VPN client to the latest version and "
        "check that your certificate has not expired. If it still disconnects, send us the client's log.",
    },
    {
        "title": "Printer is not printing",
        "category": "hardware",
        "language": "en",
        "visibility": "public",
        "status": "published",
        "body": "Check that the printer is on and has paper, then clear the print queue.",
    },
]


def existing_titles(base: str, token: str) -> set[str]:
    request = urllib.request.Request(
        f"{base}/api/v1/kb/articles?limit=500", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return {article["title"] for article in json.load(response)}


def main(argv: list[str] | None = None) -> int:
    port = os.environ.get("PORTAL_PORT", "8007")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portal", default=f"http://127.0.0.1:{port}", help="the portal's base URL")
    parser.add_argument("--wait", type=float, default=60, help="seconds to wait for the portal's /health")
    parser.add_argument(
        "--stop-with",
        type=int,
        default=None,
        metavar="PID",
        help="give up waiting as soon as this process is gone (make up passes honcho's)",
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    token = admin_token()
    if not token:
        print("demo articles: no admin token (set PRIYOM_ADMIN_TOKEN or run make up once)", file=sys.stderr)
        return 1
    base = args.portal.rstrip("/")
    if not wait_healthy(base, args.wait, args.stop_with):
        print(
            f"demo articles: the portal did not answer {base}/health within {args.wait:.0f} s",
            file=sys.stderr,
        )
        return 1
    try:
        there = existing_titles(base, token)
    except (urllib.error.URLError, OSError) as error:
        print(f"demo articles: cannot list the articles: {error}", file=sys.stderr)
        return 1
    failed = []
    for article in ARTICLES:
        if article["title"] in there:
            continue
        status, body = post_client(base, token, article, path="/api/v1/kb/articles")
        if status != 201:
            failed.append(f"{article['title']}: HTTP {status} {body[:300]}")
    added = len([a for a in ARTICLES if a["title"] not in there]) - len(failed)
    print(
        f"demo articles: {added} added, {len(there & {a['title'] for a in ARTICLES})} already there, "
        f"{len(failed)} failed"
    )
    for line in failed:
        print(f"demo articles:   {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
