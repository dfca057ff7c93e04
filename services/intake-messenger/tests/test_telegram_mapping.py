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
