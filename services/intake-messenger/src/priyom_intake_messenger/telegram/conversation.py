"""The guided start: /start greets and offers the topics as buttons; a topic button asks for the request.

Stateless on purpose: the topic travels in the prompt the customer answers (a ForceReply), and
:func:`.mapping.read_update` reads it back from ``reply_to_message``, so a restart loses nothing.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup

from .mapping import TOPIC_PREFIX, TOPIC_PROMPT, TOPICS, ButtonPress, Command, topic_of

GREETING = ("Здравствуйте! Это служба поддержки. О чём ваше обращение? Выберите тему или просто напишите "
            "сообщение: мы зарегистрируем его и сообщим номер заявки.")


def topic_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=label, callback_data=f"{TOPIC_PREFIX}{topic.value}")]
        for topic, label in TOPICS.items()
    ])


async def on_command(bot: Bot, command: Command) -> None:
    if command.name == "start":
        await bot.send_message(command.chat_id, GREETING, reply_markup=topic_keyboard())


async def on_button(bot: Bot, press: ButtonPress) -> None:
    topic = topic_of(press.data)
    await bot.answer_callback_query(press.callback_id)  # stops the button's spinner either way
    if topic is None or press.chat_id is None:
        return
    await bot.send_message(press.chat_id, TOPIC_PROMPT.format(label=TOPICS[topic]),
                           reply_markup=ForceReply(force_reply=True))
