"""Where a client can be answered, read off their card for :class:`~priyom_contracts.Reach`.

Identity publishes it with every identification, so tickets can answer a web-form or phone customer by e-mail
or messenger (and send status notices there) without asking identity over HTTP on each notice. The person who
wrote comes first: a reply for Ivan goes to Ivan's address, not to the company's ``info@``. Verified
identifiers come before claims, so a reply never goes to an address someone only typed onto the card while
one the client proved or an agent confirmed is there (a claim is still used when it is all the card has,
as for a web-form customer's first card).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Uuid, bindparam, case, select
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import MessengerId, Reach

from .matching import EMAIL, MESSENGER_PREFIX, PHONE
from .tables import identifiers


async def reach_of(session: AsyncSession, client_id: uuid.UUID, person_id: uuid.UUID | None, *,
                   prefers: str | None) -> Reach:
    """The first deliverable e-mail, messenger id and phone of the person, else of the card (newest first),
    and the channel the card prefers (``prefers``, read with the card's summary)."""
    rows = await session.execute(_REACHABLE, {"client": client_id, "person": person_id})
    return reach_from([(kind, value) for kind, value in rows], prefers=prefers)


def reach_from(rows: Sequence[tuple[str, str]], *, prefers: str | None) -> Reach:
    """The reach of a card's deliverable identifiers ``(kind, value)``, in the order :func:`reach_of` reads them."""
    email = next((value for kind, value in rows if kind == EMAIL), None)
    phone = next((value for kind, value in rows if kind == PHONE), None)
    messenger = next((MessengerId(channel=kind[len(MESSENGER_PREFIX):], user_id=value)
                      for kind, value in rows if kind.startswith(MESSENGER_PREFIX)), None)
    return Reach(email=email, messenger=messenger, phone=phone, prefers=prefers)


# Built once (a statement built per call is constructed and cache-keyed again every contact, which costs more
# than running it). The person's own identifiers first: with no person, ``person_id = NULL`` is never true and
# every row ranks the same, as the card's.
_REACHABLE = (
    select(identifiers.c.kind, identifiers.c.value)
    .where(identifiers.c.client_id == bindparam("client"), identifiers.c.undeliverable_at.is_(None))
    .order_by(identifiers.c.verified.desc(),
              case((identifiers.c.person_id == bindparam("person", type_=Uuid()), 0), else_=1),
              identifiers.c.created_at.desc())
)
