"""Where an answer goes, decided without I/O: the customer's channel, else their card's ways, else a call."""

from __future__ import annotations

from priyom_tickets.card_reach import CardReach
from priyom_tickets.reply_paths import avoided, choose

DELIVERS = frozenset({"email", "telegram"})
ORDER = ("email", "telegram")
TG = {"channel": "telegram", "user_id": "4242", "username": "nina"}


def message(**sender: object) -> dict:
    return {"sender": sender, "thread_key": "chat-1", "external_message_id": "m1@example.ru"}


def test_the_customers_own_channel_first() -> None:
    path = choose("email", {"email": message(email="ivan@example.ru")}, {"email": "other@example.ru"},
                  deliverable=DELIVERS, fallback=ORDER)
    assert path is not None and (path.channel, path.recipient.email, path.in_reply_to) == (
        "email", "ivan@example.ru", "m1@example.ru")
    chat = choose("telegram", {"telegram": message(messenger=TG)}, None, deliverable=DELIVERS, fallback=ORDER)
    assert chat is not None and chat.channel == "telegram" and chat.recipient.external_thread_id == "chat-1"


def test_web_and_phone_customers_are_answered_where_their_card_reaches_them() -> None:
    web = choose("web", {"web": message(email="nina@example.ru")}, None, deliverable=DELIVERS, fallback=ORDER)
    assert web is not None and (web.channel, web.recipient.email, web.in_reply_to) == (
        "email", "nina@example.ru", None)
    call = choose("phone", {"phone": message(phone="+79160000001")}, {"email": "card@example.ru"},
                  deliverable=DELIVERS, fallback=ORDER)
    assert call is not None and (call.channel, call.recipient.email) == ("email", "card@example.ru")
    telegram_only = choose("phone", {"phone": message(phone="+79160000001")}, {"messenger": TG},
                           deliverable=DELIVERS, fallback=ORDER)
    assert telegram_only is not None and telegram_only.channel == "telegram"
    assert telegram_only.recipient.messenger is not None and telegram_only.recipient.messenger.user_id == "4242"


def test_a_card_that_prefers_telegram_gets_telegram() -> None:
    reach = {"email": "card@example.ru", "messenger": TG, "prefers": "telegram"}
    path = choose("web", {"web": message(email="nina@example.ru")}, reach, deliverable=DELIVERS, fallback=ORDER)
    assert path is not None and path.channel == "telegram"
    # The deployment's order decides where the card says nothing.
    path = choose("web", {}, {"email": "card@example.ru", "messenger": TG}, deliverable=DELIVERS,
                  fallback=("telegram", "email"))
    assert path is not None and path.channel == "telegram"
    # A preferred channel nobody delivers on is passed over.
    path = choose("web", {}, {"email": "card@example.ru", "prefers": "vk"}, deliverable=DELIVERS, fallback=ORDER)
    assert path is not None and path.channel == "email"


def test_only_a_phone_means_a_call_back_and_nothing_means_none() -> None:
    call = choose("web", {"web": message(phone="+79160000001")}, None, deliverable=DELIVERS, fallback=ORDER)
    assert call is not None and call.call_back and call.recipient.phone == "+79160000001"
    assert choose("web", {"web": message(name="Аноним")}, None, deliverable=DELIVERS, fallback=ORDER) is None
    # An e-mail ticket whose sender left no usable address (the unknown-sender card) falls through too.
    assert choose("email", {"email": message()}, None, deliverable=DELIVERS, fallback=ORDER) is None


def test_a_chat_visitor_is_answered_in_the_chat_unless_they_left_a_message_for_an_e_mail_answer() -> None:
    chats = DELIVERS | {"chat"}
    visitor = {"channel": "chat", "user_id": "9f2c41d07a3b4e5f8a6b7c8d9e0f1a2b"}
    live = choose("chat", {"chat": message(messenger=visitor, email="olga@example.ru")}, None,
                  deliverable=chats, fallback=ORDER)
    assert live is not None and live.channel == "chat"
    assert live.recipient.messenger is not None and live.recipient.messenger.user_id == visitor["user_id"]
    # Left while no agent was online: the widget's contact carries the e-mail and no chat id.
    away = choose("chat", {"chat": message(email="olga@example.ru")}, None, deliverable=chats, fallback=ORDER)
    assert away is not None and (away.channel, away.recipient.email) == ("email", "olga@example.ru")


# -- addresses identity flagged undeliverable (card_reach.py) ----------------------------------------------

DEAD = CardReach(undeliverable={"ivan@example.ru": "550 mailbox unavailable"}, emails=("ivan.work@example.ru",),
                 messengers=({"channel": "telegram", "user_id": "4242"},))


def test_a_flagged_address_is_passed_over_for_another_email_of_the_card() -> None:
    path = choose("email", {"email": message(email="Ivan@Example.ru")}, {"email": "ivan@example.ru"},
                  deliverable=DELIVERS, fallback=ORDER, card=DEAD)
    assert path is not None and (path.channel, path.recipient.email) == ("email", "ivan.work@example.ru")
    assert avoided({"email": message(email="Ivan@Example.ru")}, {"email": "ivan@example.ru"}, DEAD) == {
        "Ivan@Example.ru": "550 mailbox unavailable", "ivan@example.ru": "550 mailbox unavailable"}


def test_without_another_email_the_cards_messenger_carries_it() -> None:
    card = CardReach(undeliverable=DEAD.undeliverable, messengers=DEAD.messengers)
    path = choose("email", {"email": message(email="ivan@example.ru")}, None, deliverable=DELIVERS,
                  fallback=ORDER, card=card)
    assert path is not None and path.channel == "telegram" and path.recipient.messenger is not None
    assert path.recipient.messenger.user_id == "4242"


def test_only_dead_addresses_is_no_way_or_a_call_back() -> None:
    card = CardReach(undeliverable=DEAD.undeliverable)
    assert choose("email", {"email": message(email="ivan@example.ru")}, {"email": "ivan@example.ru"},
                  deliverable=DELIVERS, fallback=ORDER, card=card) is None
    call = choose("web", {"web": message(email="ivan@example.ru", phone="+79160000001")}, None,
                  deliverable=DELIVERS, fallback=ORDER, card=card)
    assert call is not None and call.call_back
    # A card identity never announced changes nothing: the ticket's own addresses decide, as before.
    assert avoided({"email": message(email="ivan@example.ru")}, None, None) == {}
