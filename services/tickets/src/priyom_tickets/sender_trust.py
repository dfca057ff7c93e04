"""May a mail's sender change a ticket by itself? Pure.

An e-mail's ``From`` is a claim anyone can write. intake-email says how far the claim is proven
(``Contact.sender_authenticated``: SPF, DKIM, DMARC); identity says the claimed address belongs to a known card
(``MatchKind.EXACT_EMAIL``). A mail that claims a known client's address without proof is *unproven*: it is
kept on the ticket like any message and flagged to the agent (on the message and in the ticket's history), but
what only the customer's word may do, rating a closed ticket or closing, reopening or declining a resolved one,
waits for an agent to decide (issue 15, finding 9: a forged ``From`` rated and closed the victim's ticket).

Mail that ended a wait (pending → open) still moves the ticket: that only puts it in front of an agent, who
sees the flag there. Mail without any verdict (``None``: no trusted ``Authentication-Results``, no signature,
nothing checked) moves tickets as before unless ``TICKETS_TRUST_MAIL_WITHOUT_VERDICT`` is false, so an
installation whose mail server reports nothing keeps working; a failing verdict is flagged always.
"""

from __future__ import annotations

from typing import Any

from priyom_contracts import Contact, ContactRouted, MatchKind

from .lifecycle import ON_CUSTOMER_VERDICT
from .policy import Policy

#: The history action of the flag.
FLAG = "sender_unproven"
#: The moves only the customer's proven word may make: closing, reopening, declining a proposed solution.
VERDICT_MOVES = frozenset(move for pair in ON_CUSTOMER_VERDICT.values() for move in pair)


def unproven(event: ContactRouted, *, trust_without_verdict: bool = True) -> bool:
    """True for a mail claiming a known client's address that its sender authentication does not prove."""
    contact = event.contact
    if contact.sender.email is None or event.client.match is not MatchKind.EXACT_EMAIL:
        return False
    if contact.sender_authenticated is None:
        return event.channel == "email" and not trust_without_verdict
    return not contact.sender_authenticated


def screen(move: str | None) -> tuple[str | None, dict[str, str]]:
    """What an unproven sender's message may still do of ``move``, and what it may not (for the flag)."""
    if move in VERDICT_MOVES:
        return None, {"withheld": move}
    return move, {}


def flag_details(event: ContactRouted, withheld: dict[str, Any]) -> dict[str, Any]:
    """The history line's details: the claimed address, the verdict, and what the mail would have done."""
    auth = event.contact.sender_auth
    return {"contact_id": str(event.contact.contact_id), "claimed": event.contact.sender.email,
            "sender_authenticated": event.contact.sender_authenticated,
            "verdict": auth.model_dump(mode="json") if auth else None} | withheld


def message_flag(event: ContactRouted, policy: Policy) -> str | None:
    """The flag kept on the message row (shown in the thread), or None."""
    return FLAG if unproven(event, trust_without_verdict=policy.trust_mail_without_verdict) else None


def sender_auth_of(contact: Contact) -> dict[str, Any] | None:
    """What the message row keeps of the sender's authentication (None for channels that give none)."""
    if contact.sender_auth is None and contact.sender_authenticated is None:
        return None
    auth = contact.sender_auth.model_dump(mode="json") if contact.sender_auth else {}
    return {"authenticated": contact.sender_authenticated, **auth}
