"""Which identifiers a channel proves are the sender's, and which it merely passes on as claims. Pure.

Anyone can type any e-mail address and any phone number into the web form, put any address in a mail's
``From``, or send any of them through the JSON webhook: those are claims. Stored on a card they are marked
unverified, and they never identify a caller nor fill a pop-up (see :func:`.matching.decide` and the
lookup), until an agent confirms them or a channel proves them:

- a telephony call proves the caller's number (the network delivered it; the PBX does not let it be typed);
- Telegram proves its user id, and the phone of a contact the user shared as their own (the adapter keeps
  only a shared contact whose ``user_id`` is the sender's, see intake-messenger's ``telegram/mapping.py``).

- an answer to mail we delivered proves its ``From`` address; that needs the database (which Message-IDs
  went where), so it is :mod:`.mail_replies`, not this table.

Any other mail is a claim. The webhook's own user ids are claims too: the peer signs the body, not who its
users are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from .matching import PHONE, Identifier, messenger_kind

#: Identifier kinds each channel proves, by channel name as the adapters publish it.
PROOFS: Mapping[str, frozenset[str]] = {
    "phone": frozenset({PHONE}),
    "telegram": frozenset({PHONE, messenger_kind("telegram")}),
}


def proven_by(channel: str, identifier: Identifier) -> bool:
    """Whether a contact on ``channel`` proves ``identifier`` is the sender's own."""
    return identifier.kind in PROOFS.get(channel, frozenset())


def as_sent_by(channel: str, wanted: Sequence[Identifier]) -> list[Identifier]:
    """``wanted`` with ``verified`` set to what ``channel`` proves (the order kept)."""
    return [replace(i, verified=proven_by(channel, i)) for i in wanted]
