"""Identifiers as real systems send them (the shared corpus): AMI caller ids, Telegram contacts, mail senders.

Each value either normalises or is refused with a reason that does not repeat it; nothing else may happen,
because a caller-ID field full of surprises must never take the lookup down.
"""

from __future__ import annotations

import json
import re
from email import message_from_bytes, policy
from email.utils import getaddresses
from pathlib import Path

from priyom_contracts import MessengerId, Sender
from priyom_identity.canonical_identifiers import InvalidIdentifier, normalise_email, normalise_phone
from priyom_identity.matching import sender_identifiers

CALLER_ID = re.compile(rb'"?CallerIDNum"?\s*[:=]\s*"?([^",\r\n]*)')


def caller_ids(corpus: Path) -> set[str]:
    found: set[str] = set()
    for path in (corpus / "ami").rglob("*"):
        if path.is_file() and path.name != "SOURCE.md":
            found.update(m.decode("latin-1").strip() for m in CALLER_ID.findall(path.read_bytes()))
    return found


def test_every_ami_caller_id_normalises_or_is_refused_with_a_reason(corpus_dir: Path) -> None:
    values = caller_ids(corpus_dir)
    assert len(values) >= 10, "the AMI corpus holds a few dozen calls with distinct caller ids"
    normalised: dict[str, str] = {}
    for value in values:
        try:
            normalised[value] = normalise_phone(value, "NL").e164  # the corpus PBXs are Dutch
        except InvalidIdentifier as exc:
            if len(value) > 3:
                assert value not in str(exc), "a refusal must not repeat the caller id"
    assert all(re.fullmatch(r"\+[1-9]\d{6,14}", e164) for e164 in normalised.values())
    # One caller, two spellings on one PBX (national without the trunk 0, and E.164): one identifier.
    assert normalised["150010001"] == normalised["+31150010001"] == "+31150010001"
    # Internal extensions and placeholders never become match keys.
    for internal in ("201", "202", "21", "1986", "<unknown>"):
        if internal in values:
            assert internal not in normalised


def test_telegram_contact_with_a_short_number_still_identifies_by_the_messenger_id(corpus_dir: Path) -> None:
    update = json.loads((corpus_dir / "telegram" / "nutgram" / "Updates" / "contact.json").read_bytes())
    message = update["message"]
    sender = Sender(name=message["from"]["first_name"], phone=message["contact"]["phone_number"],
                    messenger=MessengerId(channel="telegram", user_id=str(message["from"]["id"]),
                                          username=message["from"]["username"]))
    found = sender_identifiers(sender, "RU")
    assert [(i.kind, i.value) for i in found] == [("messenger:telegram", "12345")], \
        "911 is an emergency short number, not a client's phone"


def test_every_sender_address_in_the_mail_corpus_normalises_stably(corpus_dir: Path) -> None:
    addresses: list[str] = []
    for path in (corpus_dir / "email").rglob("*.eml"):
        try:
            message = message_from_bytes(path.read_bytes()[:200_000], policy=policy.compat32)
            addresses += [a for _, a in getaddresses([str(message.get("From", ""))]) if a]
        except Exception:  # noqa: BLE001 - a corpus mail the stdlib cannot read has no sender to test
            continue
    assert len(addresses) >= 50
    accepted = 0
    for address in addresses:
        try:
            once = normalise_email(address)
        except InvalidIdentifier as exc:
            assert address not in str(exc)
            continue
        accepted += 1
        assert normalise_email(once) == once and once == once.lower()
    assert accepted >= 0.8 * len(addresses), "most real senders are ordinary addresses"
