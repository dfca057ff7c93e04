"""The portal's sign-in codes, sent by the bot that answers customers (``intake-messenger.sign-in``).

A :class:`~priyom_contracts.SignInCode` is written by the portal and only delivered here, to the customer's
private chat (their Telegram user id, verified on their card). It is a secret for a few minutes: never logged,
dropped once expired, nothing reported back. A flood limit or an unreachable Bot API is retried by the bus
while the code lives; a refusal (the customer blocked the bot) is final.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)

from priyom_contracts import SignInCode, utcnow
from priyom_kit import Bus, TransientError, get_logger

from .adapter import chat_of

log = get_logger("priyom.intake-messenger.sign-in")


def register_sign_in(bus: Bus, bot: Bot) -> None:
    @bus.consumer("intake-messenger.sign-in")
    async def on_sign_in_code(code: SignInCode) -> None:
        chat_id = chat_of(code.recipient)
        if chat_id is None or code.expires_at <= utcnow():
            log.info("sign-in code not sent", reason="no chat" if chat_id is None else "expired")
            return
        try:
            await bot.send_message(chat_id, code.body)
        except (TelegramForbiddenError, TelegramBadRequest, TelegramNotFound) as exc:
            log.warning("sign-in code refused by Telegram", error=type(exc).__name__)
            return
        except (TelegramRetryAfter, TelegramNetworkError, TelegramServerError) as exc:
            raise TransientError(f"Telegram unavailable: {type(exc).__name__}") from exc
        log.info("sign-in code sent")
