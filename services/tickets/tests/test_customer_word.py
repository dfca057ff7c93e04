"""What counts as the customer confirming a solution: short, positive, no question, no doubt."""

from __future__ import annotations

import pytest

from priyom_contracts import TicketStatus as S
from priyom_tickets.customer_word import confirms
from priyom_tickets.lifecycle import on_customer_message


@pytest.mark.parametrize("text", [
    "Спасибо, всё работает!", "подтверждаю", "Да, вопрос решён, можно закрывать.", "Отлично, заработало",
    "Thanks, it works now", "Confirmed, thank you!", "спасибо большое"])
def test_confirmations(text: str) -> None:
    assert confirms(text)


@pytest.mark.parametrize("text", [
    "", "Спасибо, но выгрузка всё ещё не работает", "Не работает", "А когда будет готово?", "ok?",
    "Thanks, but the error is still there", "It doesn't work", "Снова ошибка при входе",
    "Спасибо за ответ. Я проверил выгрузку отчётов вчера вечером и сегодня утром, и обе попытки закончились ошибкой",
    "Прикладываю скриншот"])
def test_anything_else_is_not_a_confirmation(text: str) -> None:
    assert not confirms(text)


def test_the_move_a_customer_message_makes() -> None:
    assert on_customer_message(S.RESOLVED, "Спасибо, всё работает") == "close"
    assert on_customer_message(S.RESOLVED, "Не помогло") == "reopen"
    assert on_customer_message(S.AWAITING_CONFIRMATION, "подтверждаю") == "close"
    assert on_customer_message(S.AWAITING_CONFIRMATION, "Нет, проблема осталась") == "customer_declined"
    assert on_customer_message(S.PENDING, "Вот скриншот") == "customer_replied"
    assert on_customer_message(S.OPEN, "Спасибо") is None


@pytest.mark.parametrize("reason", ["спасибо", "всё работает, спасибо", "thanks, resolved", "5"])
def test_the_portals_buttons_mean_what_they_say(reason: str) -> None:
    """The portal's confirm and decline buttons send these texts (priyom_portal.customer_acts): the confirmation
    closes; a refusal starts with a negation, so whatever reason the customer gives, it reopens."""
    for confirmation in ("Подтверждаю: вопрос решён.", "Confirmed: the issue is resolved."):
        assert on_customer_message(S.RESOLVED, confirmation) == "close"
        assert on_customer_message(S.AWAITING_CONFIRMATION, confirmation) == "close"
    for refusal in (f"Не решено: {reason}", f"Not resolved: {reason}"):
        assert on_customer_message(S.RESOLVED, refusal) == "reopen"
        assert on_customer_message(S.AWAITING_CONFIRMATION, refusal) == "customer_declined"
