"""The bot's side of the conversation: the guided start and the closing survey.

/start greets, offers the topics as buttons and a button that shares the customer's own phone number
(for identity to find their card); a topic button asks for the request. Stateless on purpose:
the topic travels in the prompt the customer answers (a ForceReply), and :func:`.mapping.read_update` reads
it back from ``reply_to_message``, so a restart loses nothing. The closing survey's buttons carry the ticket
number and the rating (``rate:2026-000123:5``); a press is the customer's answer "5" naming that ticket,
published as a contact before the press is acknowledged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiogram import Bot
from aiogram.types import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from priyom_kit.adapters import Inbound

from .mapping import (
    RATE_PREFIX,
    TOPIC_PREFIX,
    TOPIC_PROMPT,
    TOPICS,
    ButtonPress,
    Command,
    rating_contact,
    topic_of,
)

GREETING = ("Здравствуйте! Это служба поддержки. О чём ваше обращение? Выберите тему или просто напишите "
            "сообщение: мы зарегистрируем его и сообщим номер заявки.")


def topic_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=label, callback_data=f"{TOPIC_PREFIX}{topic.value}")]
        for topic, label in TOPICS.items()
    ])


SHARE_PHONE = ("Если вы уже наш клиент, поделитесь номером телефона: мы найдём вашу карточку и ответим "
               "быстрее.")
SHARE_PHONE_BUTTON = "Поделиться номером"


def share_phone_keyboard() -> ReplyKeyboardMarkup:
    # Telegram fills in the customer's own number (contact.user_id is theirs), which identity can trust.
    return ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text=SHARE_PHONE_BUTTON, request_contact=True)]],
                               resize_keyboard=True, one_time_keyboard=True)


async def on_command(bot: Bot, command: Command) -> None:
    if command.name == "start":
        await bot.send_message(command.chat_id, GREETING, reply_markup=topic_keyboard())
        await bot.send_message(command.chat_id, SHARE_PHONE, reply_markup=share_phone_keyboard())


THANKS = "Спасибо за оценку!"


def survey_keyboard(ticket_number: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=str(n), callback_data=f"{RATE_PREFIX}{ticket_number}:{n}") for n in range(1, 6)
    ]])


async def on_button(bot: Bot, press: ButtonPress, *, accept: Callable[[Inbound], Awaitable[object]],
                    update_id: int) -> None:
    if rated := rating_contact(press, update_id, bot.id, datetime.now(UTC)):
        await accept(rated)
        await bot.answer_callback_query(press.callback_id, text=THANKS)
        return
    topic = topic_of(press.data)
    await bot.answer_callback_query(press.callback_id)  # stops the button's spinner either way
    if topic is None or press.chat_id is None:
        return
    await bot.send_message(press.chat_id, TOPIC_PROMPT.format(label=TOPICS[topic]),
                           reply_markup=ForceReply(force_reply=True))
