"""Every answer reaches the customer: a web-form customer who left an e-mail is answered by e-mail, with the
ticket number once in the subject, and their answer to that mail (or a new mail quoting the bare number)
lands on the same ticket. The mail goes out through a real SMTP relay (an aiosmtpd sink) and comes back in
through intake-email's own SMTP endpoint, as it would from the customer's mail server."""

from __future__ import annotations

import asyncio
import re
import uuid
from email.message import EmailMessage

import aiosmtplib
import httpx
import pytest

from priyom_testing.smtp_sink import MailSink
from priyom_testing.stack import Stack

from .test_pipeline import count_tickets, submit, wait_ticket

pytestmark = pytest.mark.e2e


async def read_ticket(client: httpx.AsyncClient, stack: Stack, number: str) -> dict:
    response = await client.get(f"{stack.url('tickets')}/api/v1/tickets/{number}", headers=stack.admin_headers)
    assert response.status_code == 200, response.text
    return response.json()


async def wait_message(client: httpx.AsyncClient, stack: Stack, number: str, text: str, timeout: float = 30) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        found = [m for m in (await read_ticket(client, stack, number))["messages"] if text in m["body_text"]]
        if found:
            return found[0]
        await asyncio.sleep(0.2)
    raise AssertionError(f"no message {text!r} on {number} after {timeout}s")


async def mail_in(stack: Stack, message: EmailMessage) -> None:
    await aiosmtplib.send(message, hostname="127.0.0.1", port=int(stack.env["INTAKE_EMAIL_SMTP_PORT"]),
                          start_tls=False, timeout=30)


async def test_web_form_customer_is_answered_by_email_and_answers_back(stack: Stack, mail_sink: MailSink) -> None:
    customer = f"nina.{uuid.uuid4().hex[:8]}@example.ru"
    async with httpx.AsyncClient(timeout=10) as client:
        response = await submit(client, stack, name="Нина", email=customer, subject="Выгрузка в Excel",
                                message="Как выгрузить отчёт о продажах в Excel?")
        assert response.status_code == 202, response.text
        ticket = await wait_ticket(client, stack, response.json()["contact_id"])
        number = ticket["number"]

        # The console shows where the reply goes before the agent sends it.
        path = await client.get(f"{stack.url('tickets')}/api/v1/tickets/{number}/reply-path",
                                headers=stack.admin_headers)
        assert (path.json()["channel"], path.json()["address"]) == ("email", customer)
        sent = await client.post(f"{stack.url('tickets')}/api/v1/tickets/{number}/replies",
                                 headers=stack.admin_headers, json={"body": "Отчёты → Продажи → Экспорт в Excel."})
        assert sent.status_code == 202, sent.text
        assert sent.json()["channel"] == "email"

        reply = await asyncio.to_thread(mail_sink.wait_for, lambda m: customer in str(m["To"])
                                        and "Экспорт в Excel" in m.get_content())
        assert str(reply["Subject"]) == f"[#{number}] Выгрузка в Excel"  # the number once, not twice
        assert re.findall(r"\d{4}-\d{6}", str(reply["Subject"])) == [number]
        # The registration notice went the same way.
        notice = await asyncio.to_thread(mail_sink.wait_for, lambda m: customer in str(m["To"])
                                         and "зарегистрировано" in m.get_content())
        assert number in notice.get_content() and notice["Auto-Submitted"] == "auto-replied"

        # The customer answers the mail from their mail program.
        answer = EmailMessage()
        answer["From"], answer["To"] = f"Нина <{customer}>", "support@priyom.local"
        answer["Subject"] = f"Re: {reply['Subject']}"
        answer["Message-ID"] = f"<{uuid.uuid4().hex}@example.ru>"
        answer["In-Reply-To"] = answer["References"] = reply["Message-ID"]
        answer.set_content("Спасибо, а можно выгрузить за весь год?\n\n> Отчёты → Продажи → Экспорт в Excel.")
        await mail_in(stack, answer)
        landed = await wait_message(client, stack, number, "можно выгрузить за весь год")
        assert (landed["direction"], landed["channel"]) == ("inbound", "email")

        # A new mail that only quotes the bare number, from the same client: the same ticket too.
        quoting = EmailMessage()
        quoting["From"], quoting["To"] = customer, "support@priyom.local"
        quoting["Subject"] = "Ещё вопрос"
        quoting["Message-ID"] = f"<{uuid.uuid4().hex}@example.ru>"
        quoting.set_content(f"По обращению {number}: и за прошлый год тоже.")
        await mail_in(stack, quoting)
        await wait_message(client, stack, number, "и за прошлый год тоже")
        assert await count_tickets(client, stack, client_id=ticket["client_id"]) == 1
