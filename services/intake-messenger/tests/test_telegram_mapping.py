"""The Bot API mapping on real recorded updates (``../shared/corpus/telegram``) and on what it must refuse.

Pure: no broker, no HTTP. The complete expected contacts of each sample are checked by the adapter
contract (``samples/telegram``); these tests pin the rules that matter for identity and for safety.
"""

from __future__ import annotations

import ast
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from priyom_intake_messenger.telegram import mapping
from priyom_kit.adapters import Inbound, merge_parts
from priyom_kit.adapters import base as adapter_base

BOT = 7004000123


def corpus_update(corpus_dir: Path, name: str) -> dict[str, Any]:
    return json.loads((corpus_dir / "telegram" / name).read_bytes())


def contact(update: dict[str, Any]) -> Inbound:
    item = mapping.read_update(update, BOT)
    assert isinstance(item, Inbound), item
    return item


def test_someone_elses_contact_card_is_text_not_the_senders_phone(corpus_dir: Path) -> None:
    update = corpus_update(corpus_dir, "nutgram/Updates/contact.json")  # a card without user_id

    item = contact(update)

    assert item.sender.phone is None
    assert "911" in item.body


def test_customer_sharing_their_own_number_gives_the_senders_phone(corpus_dir: Path) -> None:
    update = corpus_update(corpus_dir, "nutgram/Updates/contact.json")
    sender_id = update["message"]["from"]["id"]
    update["message"]["contact"] = {"phone_number": "+79123456789", "first_name": "Mario", "user_id": sender_id}

    item = contact(update)

    assert item.sender.phone == "+79123456789"
    assert item.sender.messenger is not None and item.sender.messenger.user_id == str(sender_id)


def test_idempotency_key_is_bot_and_update_id(corpus_dir: Path) -> None:
    update = corpus_update(corpus_dir, "nutgram/Updates/text.json")

    assert contact(update).idempotency_key == f"tg:{BOT}:{update['update_id']}"
    assert contact(update).contact_id == contact(update).contact_id
    assert mapping.read_update(update, BOT + 1).idempotency_key != contact(update).idempotency_key  # type: ignore[union-attr]


def test_legacy_shapes_without_is_bot_or_file_unique_id_are_read(corpus_dir: Path) -> None:
    photo = contact(corpus_update(corpus_dir, "zammad/private/photo.json"))
    document = contact(corpus_update(corpus_dir, "zammad/private/document_without_mime_type.json"))

    assert [f.ref for f in photo.files] == ["photofileid3"]  # the largest of the three sizes
    assert photo.body == "caption 123<b>abc</b>"  # kept as the customer typed it, not rendered
    assert document.files[0].content_type == "application/octet-stream"


def test_not_contacts_are_ignored(corpus_dir: Path) -> None:
    for name in ("zammad/channel/photo.json", "zammad/private/my_chat_member.json",
                 "nutgram/Updates/channel_post.json", "nutgram/Updates/message_reaction.json",
                 "nutgram/Updates/new_chat_members.json", "nutgram/Updates/message_topic.json",
                 "nutgram/Updates/poll.json", "nutgram/Updates/inline_query.json"):
        assert mapping.read_update(corpus_update(corpus_dir, name), BOT) is None, name


def test_start_is_a_command_and_buttons_are_presses(corpus_dir: Path) -> None:
    start = mapping.read_update(corpus_update(corpus_dir, "nutgram/Updates/command_message.json"), BOT)
    press = mapping.read_update(corpus_update(corpus_dir, "nutgram/Updates/callback_query.json"), BOT)
    orphan = mapping.read_update(corpus_update(corpus_dir, "nutgram/Updates/callback_query_without_message.json"),
                                 BOT)

    assert start == mapping.Command("start", "", 456, 456)
    assert press == mapping.ButtonPress("666728699048485871", "thedata", 222222222, 222222222, "Mario", "Super")
    assert isinstance(orphan, mapping.ButtonPress) and orphan.chat_id is None


def test_album_parts_merge_into_one_contact(corpus_dir: Path) -> None:
    first = corpus_update(corpus_dir, "zammad/private/photo.json")
    second = json.loads(json.dumps(first))
    second["update_id"] += 1
    second["message"]["message_id"] += 1
    second["message"]["photo"][-1]["file_id"] = "photofileid-second"
    second["message"].pop("caption")
    for update in (first, second):
        update["message"]["media_group_id"] = "13812479123456789"

    parts = [contact(first), contact(second)]
    album = merge_parts(parts)

    assert parts[0].group == parts[1].group == f"tg:{BOT}:album:13812479123456789"
    assert album.idempotency_key == parts[0].group
    assert [f.ref for f in album.files] == ["photofileid3", "photofileid-second"]
    assert album.body == "caption 123<b>abc</b>"


def test_topic_prompt_answer_carries_the_topic_only_from_the_bot() -> None:
    prompt = mapping.TOPIC_PROMPT.format(label=mapping.TOPICS[mapping.ContactType.COMPLAINT])
    chat = {"id": 5, "type": "private"}
    message = {"message_id": 9, "from": {"id": 5, "is_bot": False, "first_name": "A"}, "chat": chat,
               "date": 1764065100, "text": "Списали дважды",
               "reply_to_message": {"message_id": 8, "from": {"id": BOT, "is_bot": True, "first_name": "B"},
                                    "chat": chat, "date": 1764065000, "text": prompt}}
    forged = json.loads(json.dumps(message))
    forged["reply_to_message"]["from"] = {"id": 77, "is_bot": False, "first_name": "Someone"}

    assert contact({"update_id": 1, "message": message}).subject == "Жалоба"
    assert contact({"update_id": 2, "message": forged}).subject is None
    assert mapping.topic_of("topic:complaint") == mapping.ContactType.COMPLAINT
    assert mapping.topic_of("topic:nonsense") is None and mapping.topic_of("rate:5") is None


def test_survey_buttons_carry_ticket_and_rating_and_nothing_else_passes() -> None:
    assert mapping.rating_of("rate:2026-000123:5") == ("2026-000123", 5)
    for forged in ("rate:2026-000123:6", "rate:2026-000123:0", "rate:123:5", "rate:2026-000123:5:x",
                   "topic:complaint", "rate:2026-00012a:3"):
        assert mapping.rating_of(forged) is None, forged


def test_a_survey_press_is_the_customers_answer_naming_the_ticket(corpus_dir: Path) -> None:
    update = corpus_update(corpus_dir, "nutgram/Updates/callback_query.json")
    update["callback_query"]["data"] = "rate:2026-000123:4"
    press = mapping.read_update(update, BOT)
    assert isinstance(press, mapping.ButtonPress)
    when = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)

    answer = mapping.rating_contact(press, update["update_id"], BOT, when)

    assert answer is not None
    assert (answer.body, answer.thread.ticket_number, answer.received_at) == ("4", "2026-000123", when)
    assert answer.thread.external_thread_id == "tg:222222222"
    assert answer.idempotency_key == f"tg:{BOT}:{update['update_id']}"
    assert answer.sender.messenger is not None and answer.sender.messenger.username == "Super"
    orphan = mapping.read_update(corpus_update(corpus_dir, "nutgram/Updates/callback_query_without_message.json"),
                                 BOT)
    assert isinstance(orphan, mapping.ButtonPress)
    assert mapping.rating_contact(orphan, 1, BOT, when) is None  # no chat: no conversation to answer in


def test_mapping_imports_no_broker_http_or_bot_library() -> None:
    """The standard library, the contracts and the kit's pure adapter base: nothing that does I/O."""
    for module in (mapping.__file__, adapter_base.__file__):
        assert module is not None
        tree = ast.parse(Path(module).read_text("utf-8"))
        imported = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        imported |= {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
        foreign = {name for name in imported if name.split(".")[0] not in sys.stdlib_module_names
                   and name not in ("priyom_contracts", "priyom_kit.adapters.base")}
        assert foreign == set(), (module, foreign)


def sticker_message(**sticker: Any) -> dict[str, Any]:
    chat = {"id": 5, "type": "private"}
    base = {"file_id": "CAACAgIAAxkBAAIstk", "file_unique_id": "AgADstk", "width": 512, "height": 512,
            "type": "regular", "is_animated": False, "is_video": False, "file_size": 2048}
    return {"update_id": 7, "message": {"message_id": 9, "from": {"id": 5, "is_bot": False, "first_name": "A"},
                                        "chat": chat, "date": 1764065100, "sticker": {**base, **sticker}}}


def test_a_sticker_is_its_file_in_its_own_format_and_its_emoji_as_text() -> None:
    static = contact(sticker_message(emoji="👍"))
    animated = contact(sticker_message(emoji="😡", is_animated=True))
    video = contact(sticker_message(emoji="🙏", is_video=True))

    assert [(f.filename, f.content_type) for s in (static, animated, video) for f in s.files] == [
        ("sticker_9.webp", "image/webp"), ("sticker_9.tgs", "application/x-tgsticker"),
        ("sticker_9.webm", "video/webm")]
    assert [s.body for s in (static, animated, video)] == ["Стикер: 👍", "Стикер: 😡", "Стикер: 🙏"]
    assert static.files[0].ref == "CAACAgIAAxkBAAIstk" and static.files[0].size == 2048  # the limit sees it


def test_a_sticker_without_emoji_or_flags_is_still_a_webp_file_named_as_a_sticker() -> None:
    update = sticker_message()
    for legacy in ("emoji", "is_animated", "is_video", "type", "file_unique_id", "file_size"):
        update["message"]["sticker"].pop(legacy, None)

    item = contact(update)

    assert item.body == "Стикер"
    assert [(f.filename, f.content_type, f.size) for f in item.files] == [("sticker_9.webp", "image/webp", None)]


def test_paid_media_the_bot_may_open_is_fetched_and_a_preview_is_named() -> None:
    update = sticker_message()
    message = update["message"]
    del message["sticker"]
    message["caption"] = "Фото повреждения"
    message["paid_media"] = {"star_count": 1, "paid_media": [
        {"type": "photo", "photo": [{"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
                                    {"file_id": "large", "file_unique_id": "l", "width": 900, "height": 900}]},
        {"type": "video", "video": {"file_id": "clip", "file_unique_id": "c", "width": 1, "height": 1,
                                    "duration": 3}}]}
    preview = json.loads(json.dumps(update))
    preview["message"]["paid_media"]["paid_media"] = [{"type": "preview", "duration": 3}]

    paid = contact(update)
    unopened = contact(preview)

    assert [(f.ref, f.filename, f.content_type) for f in paid.files] == [
        ("large", "paid_photo_9_1.jpg", "image/jpeg"), ("clip", "paid_video_9_2.mp4", "video/mp4")]
    assert paid.body == "Фото повреждения"
    assert unopened.files == ()
    assert unopened.body.startswith("Фото повреждения\n[платные фото или видео")


def test_contents_without_a_customers_file_say_what_they_were(corpus_dir: Path) -> None:
    dice = contact(corpus_update(corpus_dir, "nutgram/Updates/dice.json"))

    assert dice.files == ()
    assert dice.body == "[сообщение без текста: dice]"
