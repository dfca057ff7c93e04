"""A Telegram conversation through the real services: identity, router, tickets and intake-messenger run as
processes, the bot polls a local fake Bot API (``priyom_testing.telegram_bot_api``), and the customer's
updates are real ones from ``../shared/corpus/telegram/`` addressed as this test's customer.

/start greets with the topics and the share-my-number button; the shared number finds the client's card; the
request lands on a ticket of that card; the agent's reply through the tickets API arrives in the chat; closing
the ticket sends the survey with 1-5 buttons; a press is the rating on the ticket. Then the messenger is
killed and restarted, and a reply it had delivered before is delivered to it again: it is reported, and not
sent to the chat a second time.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest

from priyom_contracts import Topology, contact_id_for
from priyom_testing.stack import Stack, stack_env
from priyom_testing.telegram_bot_api import BOT_ID, FakeBotAPI, FakeBotAPIThread

pytestmark = pytest.mark.e2e

SERVICES = ("identity", "router", "tickets", "intake-messenger")
UPDATES = Path("telegram/nutgram/Updates")
#: How each ticket type is taken to ``closed`` by staff (the lifecycles of the tickets service).
PATH_TO_CLOSED = {
    "complaint": [("review", None), ("reject", "reject_no_grounds"), ("close", None)],
    "service_request": [("accept", None), ("resolve", "fixed"), ("close", None)],
    "information_request": [("accept", None), ("resolve", "consulted"), ("close", None)],
    "purchase_interest": [("accept", None), ("resolve", "offer_sent"), ("close", None)],
}
_message_ids = itertools.count(7000)


@dataclass
class TelegramStack:
    stack: Stack
    bot: FakeBotAPIThread

    @property
    def fake(self) -> FakeBotAPI:
        return self.bot.fake

    async def send(self, update: dict[str, Any]) -> dict[str, Any]:
        """The customer does something: Telegram queues the update for the bot's next getUpdates."""
        return await self.bot.call(self.fake.add_update(update))

    def sent_to(self, chat_id: int) -> list[dict[str, Any]]:
        return [s for s in list(self.fake.sent) if int(s["params"]["chat_id"]) == chat_id]


@pytest.fixture(scope="module")
def telegram(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TelegramStack]:
    """The four services on SQLite and a private bus prefix, the messenger polling the fake Bot API."""
    from priyom_kit.pytest_plugin import delete_prefixed

    workdir = tmp_path_factory.mktemp("telegram-stack")
    prefix = f"e2etg{uuid.uuid4().hex[:8]}."
    with FakeBotAPIThread() as bot:
        env = stack_env(os.environ, workdir=workdir, prefix=prefix)
        env.update(TELEGRAM_BOT_TOKEN=bot.fake.token, TELEGRAM_API_BASE=bot.fake.base_url, TELEGRAM_MODE="polling",
                   INTAKE_MESSENGER_TELEGRAM_POLL_TIMEOUT_S="1")
        stack = Stack(env=env, workdir=workdir)
        try:
            stack.migrate()
            stack.start(SERVICES)
            yield TelegramStack(stack, bot)
        finally:
            stack.stop()
            asyncio.run(delete_prefixed(env.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"), prefix))


@dataclass(frozen=True)
class Customer:
    user_id: int
    first_name: str
    last_name: str
    username: str

    @classmethod
    def new(cls) -> Customer:
        return cls(6_100_000_000 + uuid.uuid4().int % 10**8, "Мария", "Кузнецова", f"maria_{uuid.uuid4().hex[:6]}")

    def user(self) -> dict[str, Any]:
        return {"id": self.user_id, "is_bot": False, "first_name": self.first_name, "last_name": self.last_name,
                "username": self.username, "language_code": "ru"}

    def chat(self) -> dict[str, Any]:
        return {"id": self.user_id, "first_name": self.first_name, "last_name": self.last_name,
                "username": self.username, "type": "private"}


def corpus_update(corpus_dir: Path, name: str, customer: Customer, **message: Any) -> dict[str, Any]:
    """A real update from the corpus, as if ``customer`` had sent it now: their user and chat, a fresh message
    id, and the given message fields (text, contact, reply_to_message) in place of the recorded ones."""
    update = json.loads((corpus_dir / UPDATES / name).read_bytes())
    original = update["message"]
    for field in ("text", "entities", "contact"):
        original.pop(field, None)
    original.update({"message_id": next(_message_ids), "date": int(time.time()), "from": customer.user(),
                     "chat": customer.chat(), **message})
    return update


def corpus_button_press(corpus_dir: Path, customer: Customer, bot_message: dict[str, Any],
                        data: str) -> dict[str, Any]:
    """The corpus's real callback_query, as ``customer`` pressing the button ``data`` under ``bot_message``."""
    update = json.loads((corpus_dir / UPDATES / "callback_query.json").read_bytes())
    press = update["callback_query"]
    press.update({"id": str(uuid.uuid4().int % 10**18), "from": customer.user(), "message": copy.deepcopy(bot_message),
                  "data": data})
    return update


async def eventually(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 45) -> Any:
    """Poll ``check`` until it returns something truthy (the pipeline is asynchronous end to end)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (result := await check()):
        if loop.time() > deadline:
            raise AssertionError(f"not reached in {timeout:g} s: {what}")
        await asyncio.sleep(0.2)
    return result


def button(message: dict[str, Any], prefix: str) -> str | None:
    rows = (message["params"].get("reply_markup") or {}).get("inline_keyboard") or []
    return next((b["callback_data"] for row in rows for b in row if b["callback_data"].startswith(prefix)), None)


async def test_a_conversation_from_start_to_rating(telegram: TelegramStack, corpus_dir: Path) -> None:
    stack, customer = telegram.stack, Customer.new()
    digits = f"{uuid.uuid4().int % 10**7:07d}"
    async with httpx.AsyncClient(timeout=10, headers=stack.admin_headers) as api:
        card = await api.post(f"{stack.url('identity')}/api/v1/clients", json={
            "name": "ООО «Северный ветер»", "persons": [
                {"full_name": "Мария Кузнецова", "phones": [f"+7 916 {digits[:3]}-{digits[3:5]}-{digits[5:]}"]}]})
        assert card.status_code == 201, card.text
        client_id = card.json()["id"]

        # /start: the greeting with the topics, and the button that shares the customer's own number.
        await telegram.send(corpus_update(corpus_dir, "command.json", customer, text="/start",
                                          entities=[{"offset": 0, "length": 6, "type": "bot_command"}]))
        greeting = await eventually(lambda: _first(telegram.sent_to(customer.user_id), "topic:"),
                                    "the greeting with topic buttons")
        await eventually(lambda: _async(any(
            (s["params"].get("reply_markup") or {}).get("keyboard") for s in telegram.sent_to(customer.user_id))),
            "the share-my-number button")

        # The customer shares their own number: identity finds the card that has it.
        await telegram.send(corpus_update(corpus_dir, "contact.json", customer, contact={
            "phone_number": f"7916{digits}", "first_name": customer.first_name, "last_name": customer.last_name,
            "user_id": customer.user_id}))

        async def card_ticket() -> dict[str, Any] | None:
            page = (await api.get(f"{stack.url('tickets')}/api/v1/tickets", params={"client_id": client_id})).json()
            return page["items"][0] if page["total"] else None

        ticket = await eventually(card_ticket, "a ticket on the client's card")
        number = ticket["number"]
        assert ticket["channel"] == "telegram"
        await eventually(lambda: _async(any(number in t for t in _texts(telegram.sent_to(customer.user_id)))),
                         "the ticket number told in the chat")

        # A topic button, its prompt, and the request typed in answer: it joins the same ticket.
        await telegram.send(corpus_button_press(corpus_dir, customer, greeting["result"],
                                                button(greeting, "topic:service_request") or ""))
        prompt = await eventually(lambda: _async(next(
            (s for s in telegram.sent_to(customer.user_id) if "force_reply" in str(s["params"].get("reply_markup"))),
            None)), "the topic's prompt")
        request = "Касса не печатает чеки после обновления, ошибка ФН 235"
        await telegram.send(corpus_update(corpus_dir, "text.json", customer, text=request,
                                          reply_to_message=prompt["result"]))

        async def detail() -> dict[str, Any]:
            response = await api.get(f"{stack.url('tickets')}/api/v1/tickets/{number}")
            assert response.status_code == 200, response.text
            return response.json()

        await eventually(lambda: _has_message(detail, request), "the request on the ticket")
        assert (await card_ticket())["number"] == number
        assert (await detail())["client_id"] == client_id

        # The agent answers through the tickets API; the answer arrives in the chat and is marked delivered.
        answer = f"Мария, заменили фискальный накопитель, проверьте, пожалуйста ({uuid.uuid4().hex[:6]})"
        sent = await api.post(f"{stack.url('tickets')}/api/v1/tickets/{number}/replies", json={"body": answer})
        assert sent.status_code == 202, sent.text
        await eventually(lambda: _async(answer in _texts(telegram.sent_to(customer.user_id))), "the reply in the chat")
        await eventually(lambda: _delivered(detail, answer), "the reply marked delivered on the ticket")

        # Closing sends the survey with buttons 1-5 naming the ticket; pressing 5 rates it.
        for action, decision in PATH_TO_CLOSED[(await detail())["type"]]:
            moved = await api.post(f"{stack.url('tickets')}/api/v1/tickets/{number}/transitions",
                                   json={"action": action, **({"decision": decision} if decision else {})})
            assert moved.status_code == 200, moved.text
        survey = await eventually(lambda: _first(telegram.sent_to(customer.user_id), f"rate:{number}:"),
                                  "the survey with rating buttons")
        assert [b["text"] for b in survey["params"]["reply_markup"]["inline_keyboard"][0]] == ["1", "2", "3", "4", "5"]
        await telegram.send(corpus_button_press(corpus_dir, customer, survey["result"], f"rate:{number}:5"))

        async def rated() -> dict[str, Any] | None:
            return (await detail())["satisfaction"]

        rating = await eventually(rated, "the rating on the ticket")
    assert (rating["rating"], rating["channel"]) == (5, "telegram")
    answered = [params for method, params in list(telegram.fake.calls) if method == "answerCallbackQuery"]
    assert any(p.get("text") for p in answered), "the press was acknowledged with a thank-you"
    await eventually(lambda: _async(not telegram.fake.pending()), "every update confirmed to Telegram", timeout=10)


async def test_a_delivered_reply_redelivered_after_a_restart_is_not_sent_again(
        telegram: TelegramStack, corpus_dir: Path, amqp_url: str) -> None:
    stack, customer = telegram.stack, Customer.new()
    topology = Topology(stack.env["PRIYOM_BUS_PREFIX"])
    connection = await aio_pika.connect(amqp_url)
    async with connection, httpx.AsyncClient(timeout=10, headers=stack.admin_headers) as api:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(topology.exchange)
        replies = await channel.declare_queue(exclusive=True, auto_delete=True)
        await replies.bind(exchange, routing_key="reply.outbound.v1.telegram")
        reports = await channel.declare_queue(exclusive=True, auto_delete=True)
        await reports.bind(exchange, routing_key="reply.reported.v1.telegram")

        update = await telegram.send(corpus_update(corpus_dir, "text.json", customer,
                                                   text="Не приходит счёт за ноябрь"))
        contact_id = contact_id_for(f"tg:{BOT_ID}:{update['update_id']}")

        async def customer_ticket() -> dict[str, Any] | None:
            found = await api.get(f"{stack.url('tickets')}/api/v1/contacts/{contact_id}/ticket", headers=stack.admin_headers)
            return found.json() if found.status_code == 200 else None

        ticket = await eventually(customer_ticket, "the customer's ticket")
        answer = f"Счёт отправлен повторно ({uuid.uuid4().hex[:6]})"
        sent = await api.post(f"{stack.url('tickets')}/api/v1/tickets/{ticket['number']}/replies",
                              json={"body": answer})
        assert sent.status_code == 202, sent.text
        reply_id = sent.json()["reply_id"]
        outbound = await _next_where(replies, lambda m: json.loads(m.body)["reply_id"] == reply_id)
        first_report = await _next_where(reports, lambda m: json.loads(m.body)["reply_id"] == reply_id)
        assert json.loads(first_report.body)["status"] == "delivered"
        assert _texts(telegram.sent_to(customer.user_id)).count(answer) == 1

        # A real restart: the process is killed and a new one starts on the same database.
        stack.kill("intake-messenger")
        await asyncio.to_thread(stack.start, ["intake-messenger"])
        # The broker hands the reply over again, as it does when the first acknowledgement was lost: the same
        # message, byte for byte, with its headers.
        await exchange.publish(aio_pika.Message(outbound.body, headers=outbound.headers,
                                                content_type=outbound.content_type, type=outbound.type,
                                                message_id=outbound.message_id,
                                                delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                               routing_key=outbound.routing_key or "", mandatory=True)
        again = await _next_where(reports, lambda m: json.loads(m.body)["reply_id"] == reply_id)
    assert json.loads(again.body) == json.loads(first_report.body), "reported again, the same report"
    await asyncio.sleep(1)
    assert _texts(telegram.sent_to(customer.user_id)).count(answer) == 1, "sent to the chat once only"
    assert "reply already delivered, reported again" in stack.log("intake-messenger")


async def _next_where(queue: aio_pika.abc.AbstractQueue, wanted: Callable[[aio_pika.abc.AbstractMessage], bool],
                      timeout: float = 45) -> aio_pika.abc.AbstractIncomingMessage:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        message = await queue.get(no_ack=True, fail=False)
        if message is None:
            await asyncio.sleep(0.1)
        elif wanted(message):
            return message
    raise AssertionError(f"no wanted message on {queue.name} in {timeout:g} s")


async def _async(value: Any) -> Any:
    return value


def _first(sent: list[dict[str, Any]], prefix: str) -> Awaitable[dict[str, Any] | None]:
    return _async(next((s for s in sent if button(s, prefix)), None))


def _texts(sent: list[dict[str, Any]]) -> list[str]:
    return [str(s["params"].get("text") or "") for s in sent]


async def _has_message(detail: Callable[[], Awaitable[dict[str, Any]]], body: str) -> bool:
    return any(m["body_text"] == body for m in (await detail())["messages"])


async def _delivered(detail: Callable[[], Awaitable[dict[str, Any]]], body: str) -> bool:
    return any(m["body_text"] == body and m["delivery_status"] == "delivered" for m in (await detail())["messages"])
