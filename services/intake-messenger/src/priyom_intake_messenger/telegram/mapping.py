"""Bot API updates as Priyom contacts. Pure: no broker, no HTTP, no aiogram; tested on recorded updates alone.

It reads the raw JSON of an update (a dict), not aiogram's models, so older shapes still seen in the wild
(no ``is_bot``, no ``file_unique_id``) are read instead of rejected.

* Every customer message in a private chat becomes a contact; its idempotency key is ``tg:<bot>:<update_id>``
  (``update_id`` is unique per bot and the same when Telegram re-sends), and the contact id follows from it.
* Album parts (one ``media_group_id``) share the key ``tg:<bot>:album:<media_group_id>`` and a ``group``;
  the receiver joins them into one contact.
* Text, captions, photos (largest size), documents, voice, video, video notes, animations, audio, stickers
  (the file in its own format, the emoji as text), paid media the bot may open, location, venue and contact
  cards.
  A shared contact is the customer's own phone number only when ``contact.user_id`` is the sender's id
  (the "share my number" button); anyone else's card is text, never the sender's phone, so no one can
  claim another person's client card.
* An edited message is a contact whose thread says which message it corrects (``ThreadHint.edits``).
* ``/start`` and button presses (a topic, a survey rating) are not contacts: they are :class:`Command` and
  :class:`ButtonPress`.
* Anything else (channel posts, group chatter, member updates, reactions, bots) is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from priyom_contracts import ContactType, MessengerId, Sender, ThreadHint
from priyom_kit.adapters.base import FileRef, Inbound

CHANNEL = "telegram"
#: The update types the bot asks for (getUpdates and setWebhook): messages, their edits and button presses.
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]

#: The guided start's topics: button label and callback data, in the order shown.
TOPICS: dict[ContactType, str] = {
    ContactType.COMPLAINT: "Жалоба",
    ContactType.SERVICE_REQUEST: "Заявка на обслуживание",
    ContactType.INFORMATION_REQUEST: "Вопрос",
    ContactType.PURCHASE_INTEREST: "Покупка",
}
TOPIC_PREFIX = "topic:"
RATE_PREFIX = "rate:"
#: The prompt the bot sends after a topic is chosen; the customer's answer to it carries the topic.
TOPIC_PROMPT = "Тема: {label}. Опишите, пожалуйста, ваш вопрос одним сообщением."

Update = Mapping[str, Any]


@dataclass(frozen=True)
class Command:
    """A bot command in a private chat (``/start``)."""

    name: str
    args: str
    chat_id: int
    user_id: int


@dataclass(frozen=True)
class ButtonPress:
    """An inline button pressed (``callback_query``): answer it, then act on ``data``."""

    callback_id: str
    data: str
    chat_id: int | None
    user_id: int
    name: str | None = None
    username: str | None = None


def bot_id_of(token: str) -> int:
    """The bot's id, the part of its token before the colon (the token itself is a secret)."""
    head, _, _ = token.partition(":")
    return int(head)


def read_update(update: Update, bot_id: int) -> Inbound | Command | ButtonPress | None:
    """What one update means for Priyom (see the module docstring)."""
    if "callback_query" in update:
        return _button(update["callback_query"])
    edited = "edited_message" in update
    message = update.get("edited_message") if edited else update.get("message")
    if not isinstance(message, Mapping) or not _from_customer(message):
        return None
    text = message.get("text") or ""
    if not edited and text.startswith("/start"):
        name, _, args = text.partition(" ")
        return Command("start", args.strip(), int(message["chat"]["id"]), int(message["from"]["id"]))
    return _contact(message, update["update_id"], bot_id, edited=edited)


def _from_customer(message: Mapping[str, Any]) -> bool:
    sender = message.get("from")
    return (isinstance(sender, Mapping) and not sender.get("is_bot", False)
            and message.get("chat", {}).get("type") == "private" and _SERVICE_FIELDS.isdisjoint(message))


#: Service messages: Telegram reports something that happened in the chat; the customer wrote nothing.
_SERVICE_FIELDS = frozenset({
    "new_chat_members", "left_chat_member", "new_chat_title", "new_chat_photo", "delete_chat_photo",
    "group_chat_created", "supergroup_chat_created", "channel_chat_created", "migrate_to_chat_id",
    "migrate_from_chat_id", "pinned_message", "message_auto_delete_timer_changed", "forum_topic_created",
    "forum_topic_edited", "forum_topic_closed", "forum_topic_reopened", "general_forum_topic_hidden",
    "general_forum_topic_unhidden", "write_access_allowed", "successful_payment", "refunded_payment",
    "video_chat_scheduled", "video_chat_started", "video_chat_ended", "video_chat_participants_invited",
    "boost_added", "chat_background_set", "proximity_alert_triggered", "connected_website",
})


def _button(query: Mapping[str, Any]) -> ButtonPress:
    message = query.get("message") or {}
    chat_id = message.get("chat", {}).get("id")
    user = query["from"]
    return ButtonPress(str(query["id"]), str(query.get("data") or ""),
                       int(chat_id) if chat_id is not None else None, int(user["id"]), _name(user),
                       user.get("username"))


def _name(user: Mapping[str, Any]) -> str | None:
    return " ".join(filter(None, [user.get("first_name"), user.get("last_name")])) or None


def rating_contact(press: ButtonPress, update_id: int, bot_id: int, received_at: datetime) -> Inbound | None:
    """A closing-survey button pressed, as the customer's answer: the number, naming the ticket it rates.

    Tickets reads a "1".."5" answering a closed ticket as its rating, from any channel; the button saves
    the customer typing it, and ``ticket_number`` says which ticket without guessing.
    """
    rated = rating_of(press.data)
    if rated is None or press.chat_id is None:
        return None
    ticket_number, rating = rated
    return Inbound(
        idempotency_key=f"tg:{bot_id}:{update_id}",
        received_at=received_at,
        sender=Sender(name=press.name, messenger=MessengerId(channel=CHANNEL, user_id=str(press.user_id),
                                                             username=press.username)),
        body=str(rating),
        thread=ThreadHint(external_thread_id=f"tg:{press.chat_id}", ticket_number=ticket_number),
    )


def _contact(message: Mapping[str, Any], update_id: int, bot_id: int, *, edited: bool) -> Inbound:
    chat_id = int(message["chat"]["id"])
    user = message["from"]
    content, files, phone = _content(message, user)
    album = message.get("media_group_id")
    key = f"tg:{bot_id}:album:{album}" if album and not edited else f"tg:{bot_id}:{update_id}"
    reply_to = message.get("reply_to_message") or {}
    thread = ThreadHint(
        external_thread_id=f"tg:{chat_id}",
        in_reply_to=f"tg:{chat_id}:{reply_to['message_id']}" if reply_to else None,
        edits=f"tg:{chat_id}:{message['message_id']}" if edited else None,
    )
    name = _name(user)
    return Inbound(
        idempotency_key=key,
        received_at=datetime.fromtimestamp(message.get("edit_date") or message["date"], UTC),
        sender=Sender(name=name, phone=phone, messenger=MessengerId(
            channel=CHANNEL, user_id=str(user["id"]), username=user.get("username"))),
        subject=_topic_answered(reply_to, bot_id),
        body=content,
        files=tuple(files),
        thread=thread,
        group=key if album and not edited else None,
    )


def _content(message: Mapping[str, Any], user: Mapping[str, Any]) -> tuple[str, list[FileRef], str | None]:
    """The message's text, its files and the customer's own phone number if they shared it."""
    text = message.get("text") or message.get("caption") or ""
    files = _files(message)
    phone = None
    extra: list[str] = []
    if sticker := message.get("sticker"):
        # The emoji is the sticker's meaning in words an agent reads without opening the file.
        extra.append(f"Стикер: {sticker['emoji']}" if sticker.get("emoji") else "Стикер")
    if venue := message.get("venue"):
        extra.append(f"Место: {venue.get('title', '')}, {venue.get('address', '')}".strip(", "))
    if (location := message.get("location")) and not venue:
        lat, lon = location["latitude"], location["longitude"]
        extra.append(f"Геопозиция: {lat}, {lon} https://www.openstreetmap.org/?mlat={lat}&mlon={lon}")
    if contact := message.get("contact"):
        if contact.get("user_id") == user["id"]:
            phone = contact["phone_number"]
            extra.append("Клиент поделился своим номером телефона.")
        else:
            name = " ".join(filter(None, [contact.get("first_name"), contact.get("last_name")]))
            extra.append(f"Контакт: {name}, {contact.get('phone_number', '')}")
    if (paid := message.get("paid_media")) and not _paid_media_files(paid, message["message_id"]):
        # Only a preview: Telegram gives the bot no file until the media is paid for.
        extra.append("[платные фото или видео: Telegram не даёт боту файлы без оплаты]")
    if not (text or files or extra):
        kinds = sorted(k for k in message if k in _OTHER_CONTENT)
        extra.append(f"[сообщение без текста: {', '.join(kinds) or 'неизвестного вида'}]")
    return "\n".join(filter(None, [text, *extra])), files, phone


def _files(message: Mapping[str, Any]) -> list[FileRef]:
    """Every file the customer sent in this message, as the Bot API references it (fetched later by file_id).

    Where the Bot API gives no file name or type (photos, stickers, voice), the name and type are those of
    the format Telegram serves, so the agent's browser opens the file as what it is.
    """
    mid = message["message_id"]
    files: list[FileRef] = []
    if photos := message.get("photo"):
        files.append(_largest_photo(photos, f"photo_{mid}.jpg"))
    for kind, default_name, default_type in (("document", "document_{mid}", "application/octet-stream"),
                                             ("video", "video_{mid}.mp4", "video/mp4"),
                                             ("audio", "audio_{mid}.mp3", "audio/mpeg"),
                                             ("voice", "voice_{mid}.ogg", "audio/ogg"),
                                             ("video_note", "video_note_{mid}.mp4", "video/mp4"),
                                             ("animation", "animation_{mid}.mp4", "video/mp4")):
        if (item := message.get(kind)) and not (kind == "document" and "animation" in message):
            files.append(FileRef(item["file_id"], item.get("file_name") or default_name.format(mid=mid),
                                 item.get("mime_type") or default_type, item.get("file_size")))
    if sticker := message.get("sticker"):
        extension, content_type = _sticker_format(sticker)
        files.append(FileRef(sticker["file_id"], f"sticker_{mid}.{extension}", content_type,
                             sticker.get("file_size")))
    if paid := message.get("paid_media"):
        files.extend(_paid_media_files(paid, mid))
    return files


def _largest_photo(sizes: list[Mapping[str, Any]], filename: str) -> FileRef:
    largest = sizes[-1]  # sizes come smallest first
    return FileRef(largest["file_id"], filename, "image/jpeg", largest.get("file_size"))


def _sticker_format(sticker: Mapping[str, Any]) -> tuple[str, str]:
    """Extension and content type of a sticker's file: the Bot API says which of its three formats it is
    only by these flags (updates from before animated stickers have neither: theirs are all static WebP)."""
    if sticker.get("is_video"):
        return "webm", "video/webm"
    if sticker.get("is_animated"):
        return "tgs", "application/x-tgsticker"  # gzipped Lottie JSON, Telegram's own type
    return "webp", "image/webp"


def _paid_media_files(paid: Mapping[str, Any], mid: int) -> list[FileRef]:
    """The photos and videos of paid media the bot may download; a ``preview`` (not yet paid) has no file."""
    files: list[FileRef] = []
    for n, media in enumerate(paid.get("paid_media") or [], start=1):
        if media.get("type") == "photo" and media.get("photo"):
            files.append(_largest_photo(media["photo"], f"paid_photo_{mid}_{n}.jpg"))
        elif media.get("type") == "video" and (video := media.get("video")):
            files.append(FileRef(video["file_id"], video.get("file_name") or f"paid_video_{mid}_{n}.mp4",
                                 video.get("mime_type") or "video/mp4", video.get("file_size")))
    return files


#: Message contents that carry no file or text we can read; the contact still arrives, saying what it was.
#: (A game's picture, a gift's sticker and a shared chat's photo are Telegram's, not the customer's.)
_OTHER_CONTENT = frozenset({"dice", "poll", "game", "story", "invoice", "web_app_data", "users_shared",
                            "chat_shared", "checklist", "gift", "unique_gift", "giveaway"})


def _topic_answered(reply_to: Mapping[str, Any], bot_id: int) -> str | None:
    """The topic label when the customer answers the bot's topic prompt (stateless guided start)."""
    if reply_to.get("from", {}).get("id") != bot_id:
        return None
    text = reply_to.get("text") or ""
    for label in TOPICS.values():
        if text == TOPIC_PROMPT.format(label=label):
            return label
    return None


def rating_of(data: str) -> tuple[str, int] | None:
    """``(ticket_number, rating)`` of a closing-survey button ``rate:<ticket>:<1-5>``."""
    match = _RATING.match(data)
    return (match["ticket"], int(match["rating"])) if match else None


_RATING = re.compile(r"^rate:(?P<ticket>[0-9]{4}-[0-9]{6,9}):(?P<rating>[1-5])$")


def topic_of(data: str) -> ContactType | None:
    """The topic a ``topic:<type>`` button stands for."""
    if not data.startswith(TOPIC_PREFIX):
        return None
    try:
        return ContactType(data.removeprefix(TOPIC_PREFIX))
    except ValueError:
        return None
