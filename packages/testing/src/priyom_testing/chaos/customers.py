"""Customers of three channels, behaving as real clients do when the gateway fails them.

* The web form retries a refused or unanswered submission with the same ``Idempotency-Key`` (a 202 is the
  acceptance).
* An MTA retries a mail after a 4xx reply or a broken connection, with the same ``Message-ID`` (250 is the
  acceptance).
* Telegram keeps an update until a ``getUpdates`` offset confirms it and hands it out again until then (the
  fake Bot API does exactly that); a confirmed update is the acceptance, read at the end.

Every contact carries a token of its own in its text and comes from a sender of its own, so each opens its
own ticket and is found there by its token.
"""

from __future__ import annotations

import asyncio
import imaplib
import itertools
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import aiosmtplib
import httpx

from ..telegram_bot_api import FakeBotAPI

#: How long a client keeps retrying one contact before it gives up (the contact then is not accepted).
GIVE_UP_S = 600.0


@dataclass(frozen=True)
class Accepted:
    """A contact a channel accepted: found in a ticket by its ``token``, or by its ``contact_id`` (calls)."""

    channel: str
    token: str
    contact_id: str | None = None


@dataclass
class Ledger:
    """What the clients sent and what was accepted; ``refused`` counts contacts a client gave up on."""

    accepted: list[Accepted] = field(default_factory=list)
    attempts: int = 0
    refused: int = 0


def token(run: str, channel: str, n: int) -> str:
    return f"chaos-{run}-{channel}-{n}"


def _nth(choices: str | int | Sequence[str] | Sequence[int], attempt: int) -> Any:
    """One address, or the next of several for each attempt (replicas behind a balancer, several MX)."""
    if isinstance(choices, str | int):
        return choices
    return choices[attempt % len(choices)]


async def web_form(url: str | Sequence[str], run: str, n: int, ledger: Ledger, client: httpx.AsyncClient) -> None:
    """One form submission, retried with its Idempotency-Key until it is accepted (202); with several
    ``url``, each attempt goes to the next."""
    mark = token(run, "web", n)
    body = {"name": f"Клиент {n}", "email": f"{mark}@example.ru", "consent": True,
            "message": f"Не работает касса, заявка {mark}"}
    deadline = time.monotonic() + GIVE_UP_S
    first = random.randrange(1_000)  # noqa: S311 - spreading the load, not a secret
    for attempt in itertools.count(first):
        if time.monotonic() >= deadline:
            break
        ledger.attempts += 1
        try:
            response = await client.post(f"{_nth(url, attempt)}/api/v1/contacts", json=body, headers={"Idempotency-Key": mark},
                                         timeout=30)
        except httpx.HTTPError:
            await asyncio.sleep(0.5)  # intake-web is down or was killed mid-request: the browser retries
            continue
        if response.status_code == 202:
            ledger.accepted.append(Accepted("web", mark, response.json()["contact_id"]))
            return
        if response.status_code < 500:
            ledger.refused += 1  # a 4xx is final: the form shows it to the customer
            return
        await asyncio.sleep(0.5)
    ledger.refused += 1


def mail(run: str, n: int, channel: str = "smtp") -> tuple[str, bytes]:
    mark = token(run, channel, n)
    message = EmailMessage()
    message["From"] = f"Клиент {n} <{mark}@example.org>"
    message["To"] = "support@priyom.local"
    message["Subject"] = f"Заявка {n}"
    message["Message-ID"] = make_msgid(idstring=mark, domain="example.org")
    message["Date"] = format_datetime(datetime.now(UTC))
    message.set_content(f"Не пришёл счёт по договору, заявка {mark}.")
    return mark, message.as_bytes()


async def mta(port: int | Sequence[int], run: str, n: int, ledger: Ledger) -> None:
    """One mail, delivered as an MTA does: after a 4xx or a dropped connection it is sent again, the same
    (to the next ``port``, when there are several, as to the next MX)."""
    mark, raw = mail(run, n)
    deadline = time.monotonic() + GIVE_UP_S
    first = random.randrange(1_000)  # noqa: S311 - spreading the load, not a secret
    for attempt in itertools.count(first):
        if time.monotonic() >= deadline:
            break
        ledger.attempts += 1
        try:
            async with aiosmtplib.SMTP(hostname="127.0.0.1", port=_nth(port, attempt), start_tls=False,
                                       timeout=30) as smtp:
                await smtp.sendmail(f"{mark}@example.org", ["support@priyom.local"], raw)
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code >= 500:
                ledger.refused += 1  # a permanent refusal: the MTA bounces it
                return
            await asyncio.sleep(0.5)
            continue
        except (TimeoutError, aiosmtplib.SMTPException, OSError):
            await asyncio.sleep(0.5)
            continue
        ledger.accepted.append(Accepted("smtp", mark))
        return
    ledger.refused += 1


@dataclass
class TelegramUsers:
    """Each message from a user (and chat) of its own; accepted once the bot confirmed its update."""

    fake: FakeBotAPI
    run: str
    sent: dict[int, str] = field(default_factory=dict)  # update_id -> token

    async def write(self, n: int) -> None:
        mark = token(self.run, "telegram", n)
        user = 800_000_000 + uuid.uuid4().int % 10**8  # a chat of its own: its own ticket
        update = await self.fake.add_update({"message": {
            "message_id": n + 1, "date": int(time.time()), "text": f"Здравствуйте, вопрос по заказу {mark}",
            "from": {"id": user, "is_bot": False, "first_name": "Клиент", "last_name": str(n)},
            "chat": {"id": user, "type": "private", "first_name": "Клиент"}}})
        self.sent[int(update["update_id"])] = mark

    def confirmed(self) -> list[Accepted]:
        """The updates a ``getUpdates`` offset confirmed: Telegram will not hand them out again."""
        return [Accepted("telegram", mark) for update_id, mark in self.sent.items()
                if update_id < self.fake.confirmed_offset]


def _append(host: str, port: int, user: str, password: str, raw: bytes) -> None:
    with imaplib.IMAP4(host, port, timeout=30) as imap:
        imap.login(user, password)
        status, _ = imap.append("INBOX", None, None, raw)
        if status != "OK":
            raise imaplib.IMAP4.error(f"APPEND answered {status}")


async def mailbox(port: int, user: str, password: str, run: str, n: int, ledger: Ledger) -> None:
    """One mail put into the IMAP mailbox the gateway reads (as the company's mail server delivers it),
    appended again until the server says OK; accepted then."""
    mark, raw = mail(run, n, "imap")
    deadline = time.monotonic() + GIVE_UP_S
    while time.monotonic() < deadline:
        ledger.attempts += 1
        try:
            await asyncio.to_thread(_append, "127.0.0.1", port, user, password, raw)
        except (OSError, imaplib.IMAP4.error):
            await asyncio.sleep(0.5)
            continue
        ledger.accepted.append(Accepted("imap", mark))
        return
    ledger.refused += 1
