"""The rows a card's parts are written as, made in one place for every path that writes them (:mod:`.store`
one at a time, :mod:`.new_cards` a new sender's all at once)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from priyom_contracts import utcnow

from .matching import Identifier, Owner

#: The tier of a card nobody chose one for (also the column's server default).
DEFAULT_SLA_TIER = "standard"


def client_row(*, kind: str, name: str, provisional: bool, sla_tier: str = DEFAULT_SLA_TIER,
               account_manager: str | None = None, first_contact_at: datetime | None = None,
               legal_id: str | None = None, region: str | None = None, tags: Sequence[str] = (),
               notes: str | None = None) -> dict[str, Any]:
    """A new card (a new id), its last contact its first."""
    now = utcnow()
    return dict(id=uuid.uuid4(), kind=kind, name=name, sla_tier=sla_tier, account_manager=account_manager,
                provisional=provisional, first_contact_at=first_contact_at, last_contact_at=first_contact_at,
                created_at=now, updated_at=now, legal_id=legal_id, region=region, tags=list(tags), notes=notes,
                search_name=name.casefold())


def person_row(person_id: uuid.UUID, client_id: uuid.UUID, full_name: str | None, position: str | None = None,
               role: str | None = None) -> dict[str, Any]:
    return dict(id=person_id, client_id=client_id, full_name=full_name, position=position, role=role,
                created_at=utcnow())


def identifier_rows(owner: Owner, new: Sequence[Identifier], verified_by: str | None) -> list[dict[str, Any]]:
    """``new`` attached to the card (and person), each verified or a claim as it says; ``verified_by`` names
    the proof of the verified ones."""
    now = utcnow()
    return [{"id": uuid.uuid4(), "client_id": owner.client_id, "person_id": owner.person_id, "kind": i.kind,
             "value": i.value, "raw": i.raw[:512], "extension": i.extension, "created_at": now,
             "domain": i.domain, "verified": i.verified, "verified_by": verified_by if i.verified else None}
            for i in new]


def history_row(owner: Owner, *, channel: str, contact_id: uuid.UUID, occurred_at: datetime) -> dict[str, Any]:
    return dict(client_id=owner.client_id, person_id=owner.person_id, channel=channel, contact_id=contact_id,
                occurred_at=occurred_at)
