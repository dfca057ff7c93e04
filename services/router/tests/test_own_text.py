"""What classification reads: the customer's own words, quoted history and signatures cut off. No I/O."""

from __future__ import annotations

import pytest

from priyom_router.morphology import cyrillic_reading, is_imperative, lemma
from priyom_router.own_text import own_body, own_subject, reading


@pytest.mark.parametrize("history", [
    "> СРОЧНО! Не работает проведение",
    "-----Original Message-----\nFrom: quality@example.ru\nSubject: Complaint #12",
    "-------- Пересылаемое сообщение --------\nОт: ИФНС\nТема: Изменения",
    "От: Сомов Андрей\nОтправлено: 2 июня 2025 г. 17:20",
    "On Mon, 2 Jun 2025 at 17:20, Andrew Somov <a@example.com> wrote:\n> broken again",
    "2 июня 2025 г., в 17:20, Андрей Сомов написал(а):\n> опять сбой",
])
def test_quoted_history_is_cut(history: str) -> None:
    assert own_body(f"Спасибо, всё работает!\nГде теперь отчёт?\n\n{history}") == (
        "Спасибо, всё работает!\nГде теперь отчёт?")


@pytest.mark.parametrize("signature", [
    "С уважением,\nИрина\nОтдел рекламаций",
    "С уважением, Роман Бычков\nКупите наши окна со скидкой!",
    "--\nИрина, бухгалтерия",
    "Best regards,\nTom\nComplaints department",
    "With kind regards,\nEllis\n\nPurchasing Manager\nAquilla Industries Singapore",
    "Thanks,\nTom",
    "Thanks, Nora",
    "Regards, Anna Berg, HR",
    "Best, Paul Simmons, Example Cafe",
    "Спасибо, Мария",
    "Sent from my iPhone",
    "Это письмо конфиденциально. Если вы получили это письмо по ошибке, удалите его.",
])
def test_signatures_and_disclaimers_are_cut(signature: str) -> None:
    assert own_body(f"Подскажите, где отчёт по остаткам?\n{signature}") == "Подскажите, где отчёт по остаткам?"


def test_a_message_that_is_all_quote_is_kept_whole() -> None:
    assert own_body("> только цитата\n> ещё цитата") == "> только цитата\n> ещё цитата"


def test_thanks_that_start_a_sentence_are_not_a_signature() -> None:
    assert own_body("Спасибо, всё заработало! А где журнал?") == "Спасибо, всё заработало! А где журнал?"
    assert own_body("Счёт оплачен.\nSpasibo, ждём акт.") == "Счёт оплачен.\nSpasibo, ждём акт."
    assert own_body("Paid.\nThank you, we await your quotation.") == "Paid.\nThank you, we await your quotation."


def test_reply_and_forward_subjects_say_nothing_new() -> None:
    assert own_subject("Re: RE: СРОЧНО не проводится") is None
    assert own_subject("Fwd: счёт") is None and own_subject("Ответ: заявка") is None
    assert own_subject("Стоимость внедрения") == "Стоимость внедрения"


def test_transliterated_russian_is_read_in_cyrillic_and_english_is_left_alone() -> None:
    assert cyrillic_reading("ne rabotaet 1s posle obnovleniya, pomogite pozhaluysta") == (
        "не работает 1с после обновления, помогите пожалуйста")
    english = "No bank statement came in, please check the import"
    assert cyrillic_reading(english) == english
    assert reading(None, "zdravstvuite, ne otkryvaetsya baza").words[:3] == ["здравствуите", "не", "открывается"]
    # Soft signs left out, «э» typed "e", short words: "skolko", "aktualnaya", "eto", "a", "po".
    assert cyrillic_reading("skolko stoit, a eto aktualnaya versiya po skladam?") == (
        "сколько стоит, а это актуальная версия по складам?")
    assert cyrillic_reading("dobryy den, rezervnye kopii delaete kazhdyy den?") == (
        "добрый день, резервные копии делаете каждый день?")
    # Letters and units in an English text ("2U", "Mbit/s") do not make it transliterated.
    server = "We'd like to place our own 2U server with 100 Mbit/s and remote hands. What is the price?"
    assert cyrillic_reading(server) == server


def test_lemmas_and_imperatives() -> None:
    assert [lemma(w) for w in ("договору", "пришёл", "сопровождения", "абонентское", "licences")] == [
        "договор", "прийти", "сопровождение", "абонентский", "licenc"]
    assert is_imperative("обновите") and is_imperative("пришлите") and not is_imperative("обновляете")
