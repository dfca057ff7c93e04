"""Load demo client cards into identity and demo agents into tickets: ``python scripts/demo_data.py``.

Waits for identity's ``/health``, then POSTs each card to ``/api/v1/clients`` with the admin bearer token.
Idempotent: a 409 means the card is already there. Run by ``make up``; safe to run again by hand.

Token: ``PRIYOM_ADMIN_TOKEN``, else the file ``var/admin-token`` that ``make up`` writes.
Address: ``--identity`` (default ``http://127.0.0.1:$IDENTITY_PORT``, port 8001).
Only the standard library, so any Python 3.11 runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: Client cards as identity's API takes them: name, kind ("org" | "person"), sla_tier, account_manager,
#: persons [{full_name, position, phones, emails}]. Phones are written the many ways people write them.
CLIENTS: list[dict[str, Any]] = [
    {
        "name": "ООО «Северный ветер»",
        "kind": "org",
        "sla_tier": "premium",
        "account_manager": "Ирина Соколова",
        "persons": [
            {
                "full_name": "Морозов Алексей Петрович",
                "position": "Генеральный директор",
                "phones": ["+7 (495) 123-45-67", "8 916 555-12-34"],
                "emails": ["a.morozov@severny-veter.ru"],
            },
            {
                "full_name": "Кузнецова Ольга Игоревна",
                "position": "Офис-менеджер",
                "phones": ["+74951234568"],
                "emails": ["office@severny-veter.ru", "o.kuznetsova@severny-veter.ru"],
            },
        ],
    },
    {
        "name": "АО «Уральские кассовые системы»",
        "kind": "org",
        "sla_tier": "standard",
        "account_manager": "Дмитрий Лебедев",
        "persons": [
            {
                "full_name": "Ершова Наталья Викторовна",
                "position": "Главный бухгалтер",
                "phones": ["8 (343) 210-00-11"],
                "emails": ["buh@uralkass.ru"],
            },
            {
                "full_name": "Ким Сергей",
                "position": "Системный администратор",
                "phones": ["+7-922-123-45-67"],
                "emails": ["it@uralkass.ru"],
            },
        ],
    },
    {
        "name": "ООО «Пекарня на Садовой»",
        "kind": "org",
        "sla_tier": "standard",
        "account_manager": "Ирина Соколова",
        "persons": [
            {
                "full_name": "Арутюнян Карен Ашотович",
                "position": "Владелец",
                "phones": ["89817778899"],
                "emails": ["karen@pekarnya-sadovaya.ru"],
            },
        ],
    },
    {
        "name": "ИП Гусейнова Лейла Рашидовна",
        "kind": "person",
        "sla_tier": "standard",
        "account_manager": None,
        "persons": [
            {
                "full_name": "Гусейнова Лейла Рашидовна",
                "position": "Индивидуальный предприниматель",
                "phones": ["+7 928 000 11 22"],
                "emails": ["leyla.guseynova@yandex.ru"],
            },
        ],
    },
    {
        "name": "Воронцов Иван Сергеевич",
        "kind": "person",
        "sla_tier": "standard",
        "account_manager": None,
        "persons": [
            {
                "full_name": "Воронцов Иван Сергеевич",
                "position": "Частное лицо",
                "phones": ["8-903-555-44-33"],
                "emails": ["i.vorontsov@mail.ru"],
            },
        ],
    },
]


#: Demo agents of the tickets service with the phone extensions their caller pop-ups ring at (the fake AMI
#: server's transcripts and a real PBX ring 101–103). Their tokens are shown once by the API, so they are kept
#: in ``var/agent-tokens.json`` (owner-only) for logging into the console at /console as that agent.
AGENTS: list[dict[str, Any]] = [
    {"name": "Анна Смирнова", "role": "agent", "teams": ["service", "sales"], "extension": "101"},
    {"name": "Павел Орлов", "role": "agent", "teams": ["service"], "extension": "102"},
    {"name": "Ирина Соколова", "role": "sales", "teams": ["sales"], "extension": "103"},
]


def admin_token() -> str | None:
    token = os.environ.get("PRIYOM_ADMIN_TOKEN")
    if token:
        return token
    path = ROOT / "var" / "admin-token"
    return path.read_text().strip() if path.is_file() else None


def healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/health", timeout=3) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def alive(pid: int | None) -> bool:
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_healthy(base: str, seconds: float, stop_with: int | None) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and alive(stop_with):
        if healthy(base):
            return True
        time.sleep(0.5)
    return False


def post_client(base: str, token: str, card: dict[str, Any], path: str = "/api/v1/clients",
                method: str = "POST") -> tuple[int, str]:
    request = urllib.request.Request(
        f"{base}{path}",
        data=json.dumps(card, ensure_ascii=False).encode(),
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def main(argv: list[str] | None = None) -> int:
    port = os.environ.get("IDENTITY_PORT", "8001")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identity", default=f"http://127.0.0.1:{port}", help="identity's base URL")
    tickets_port = os.environ.get("TICKETS_PORT", "8000")
    parser.add_argument("--tickets", default=f"http://127.0.0.1:{tickets_port}", help="tickets' base URL")
    parser.add_argument("--wait", type=float, default=60, help="seconds to wait for identity's /health")
    parser.add_argument("--stop-with", type=int, default=None, metavar="PID",
                        help="give up waiting as soon as this process is gone (make up passes honcho's)")
    args = parser.parse_args(argv)
    # `make up` starts this in the background, where SIGINT is ignored: Ctrl-C must still stop it.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    token = admin_token()
    if not token:
        print("demo data: no admin token (set PRIYOM_ADMIN_TOKEN or run make up once)", file=sys.stderr)
        return 1
    base = args.identity.rstrip("/")
    if not wait_healthy(base, args.wait, args.stop_with):
        print(f"demo data: identity did not answer {base}/health within {args.wait:.0f} s; not loaded",
              file=sys.stderr)
        return 1

    created = existing = 0
    failed: list[str] = []
    for card in CLIENTS:
        status, body = post_client(base, token, card)
        if status in (200, 201):
            created += 1
        elif status == 409:
            existing += 1
        else:
            failed.append(f"{card['name']}: HTTP {status} {body[:300]}")
    print(f"demo data: {created} client cards loaded, {existing} already there, {len(failed)} failed")
    for line in failed:
        print(f"demo data:   {line}", file=sys.stderr)
    tickets = args.tickets.rstrip("/")
    if not wait_healthy(tickets, args.wait, args.stop_with):
        print(f"demo data: tickets did not answer {tickets}/health within {args.wait:.0f} s; no agents",
              file=sys.stderr)
        return 1
    return 1 if failed or not seed_agents(tickets, token) else 0


def seed_agents(base: str, token: str) -> bool:
    """Create the demo agents (or give existing ones their extension back); new tokens go to a private file."""
    path = ROOT / "var" / "agent-tokens.json"
    saved: dict[str, str] = json.loads(path.read_text()) if path.is_file() else {}
    ok = True
    for agent in AGENTS:
        status, body = post_client(base, token, agent, path="/api/v1/staff")
        if status == 201:
            saved[agent["name"]] = json.loads(body)["token"]
        elif status == 409:
            status, body = post_client(base, token, {"extension": agent["extension"]},
                                       path=f"/api/v1/staff/{urllib.parse.quote(agent['name'])}", method="PATCH")
        if status not in (200, 201):
            ok = False
            print(f"demo data:   agent {agent['name']}: HTTP {status} {body[:300]}", file=sys.stderr)
    path.parent.mkdir(exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps(saved, ensure_ascii=False, indent=2))
    print(f"demo data: {len(AGENTS)} agents with extensions {', '.join(a['extension'] for a in AGENTS)}; "
          f"their tokens in {path.relative_to(ROOT)}")
    return ok


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
