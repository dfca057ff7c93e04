"""A reply to our own mail proves its sender's address: the mail we delivered, and the answers that quote it.

Anyone can put any address in ``From``, but only who reads that mailbox knows the Message-ID of the mail we
sent there (it is ``reply.<random reply id>@…``, see intake-email's ``compose.py``). So when the email
channel reports a delivery, identity keeps a digest of (Message-ID, recipient address); a mail from that
address whose ``In-Reply-To`` or ``References`` names that Message-ID proves the address, and its claim on
the card becomes verified (:mod:`.claims` for the other proofs).

Unlike a caller's number, which proves only whose the number is, this proves a correspondence: we wrote to
the address because the card holds it, and its reader answered. So the claim is confirmed where it is,
rather than taken to a card of the sender's own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import and_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from priyom_contracts import ThreadHint

from .matching import EMAIL, Identifier
from .owners import owners_written
from .store import record_audit
from .tables import identifiers, sent_mail

#: The channel whose contacts may be answers to our mail.
MAIL_CHANNEL = "email"
#: Message-IDs of one answer looked at (In-Reply-To and the newest References): an answer quotes ours near
#: the end, and a forged header with thousands of ids should not cost thousands of digests.
QUOTED_IDS = 20
#: ``verified_by`` of an address an answer proved.
PROOF = "reply:email"


def sent_digest(message_id: str, email: str) -> str:
    """The key of one delivered mail: its Message-ID (without angle brackets) and the normalised recipient."""
    return hashlib.sha256(f"{message_id.strip('<> ')}\n{email}".encode()).hexdigest()


#: Built once (a statement built per call is constructed and cache-keyed again each time), per dialect.
_RECORD_SENT = {postgresql: (pg_insert if postgresql else sqlite_insert)(sent_mail).on_conflict_do_nothing()
                for postgresql in (True, False)}


async def record_sent(session: AsyncSession, sent: Sequence[tuple[str, str, datetime]]) -> None:
    """Remember that we delivered each ``(message_id, email (normalised), at)``, in one statement. Idempotent:
    a mail remembered before (a redelivered report) stays as it was."""
    rows = {sent_digest(message_id, email): at for message_id, email, at in sent}
    if rows:
        postgresql = session.bind is not None and session.bind.dialect.name == "postgresql"
        await session.execute(_RECORD_SENT[postgresql], [{"digest": d, "sent_at": at} for d, at in rows.items()])


async def prove_replies(session: AsyncSession, channel: str, thread: ThreadHint,
                        wanted: Sequence[Identifier]) -> list[Identifier]:
    """``wanted`` with the sender's e-mail verified when this mail answers one we delivered to that address,
    and the card's claim of that address confirmed in place (audited as ``claim-proven``)."""
    quoted = [i for i in [thread.in_reply_to, *reversed(thread.references)] if i][:QUOTED_IDS]
    claimed = [i for i in wanted if i.kind == EMAIL and not i.verified]
    if channel != MAIL_CHANNEL or not quoted or not claimed:
        return list(wanted)
    digests = {sent_digest(m, i.value): i.key for i in claimed for m in quoted}
    found = (await session.execute(select(sent_mail.c.digest).where(sent_mail.c.digest.in_(digests)))).scalars()
    proven = {digests[d] for d in found}
    for kind, value in proven:
        same = and_(identifiers.c.kind == kind, identifiers.c.value == value, identifiers.c.verified.is_(False))
        claimed_by = (await session.execute(select(identifiers.c.client_id).where(same))).scalar_one_or_none()
        if claimed_by is not None:
            owners_written(session, [(kind, value)])
            await session.execute(update(identifiers).where(same).values(verified=True, verified_by=PROOF))
            await record_audit(session, "claim-proven", claimed_by, actor="identity",
                               detail={"kind": kind, "by": PROOF})
    return [replace(i, verified=True) if i.key in proven else i for i in wanted]
