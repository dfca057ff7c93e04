"""Which required fields a card still lacks, so a provisional «Впервые» card tells the agent what to ask. Pure."""

from __future__ import annotations

from priyom_contracts import ClientCard

#: What a complete card of each kind has. An organisation is billed and contracted by its legal id and
#: served by its account manager; a private person needs at least a name we can address them by.
REQUIRED: dict[str, tuple[str, ...]] = {
    "org": ("legal_id", "region", "account_manager", "contact_person"),
    "person": ("full_name", "region"),
}


def missing_fields(card: ClientCard) -> list[str]:
    """The names of :data:`REQUIRED` fields ``card`` has not got, in that order."""
    named_person = any(p.full_name for p in card.persons)
    present = {
        "legal_id": bool(card.legal_id),
        "region": bool(card.region),
        "account_manager": bool(card.account_manager),
        "contact_person": named_person,
        "full_name": named_person,
    }
    return [name for name in REQUIRED[card.kind] if not present[name]]
