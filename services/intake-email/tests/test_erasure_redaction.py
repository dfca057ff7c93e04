"""An erasure clears the Message-IDs of the person's ingested mail (found by their key digests); the digests
stay, so the mail is still recognised after a UIDVALIDITY change."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select

from priyom_contracts import ClientErased
from priyom_intake_email import erasure_redaction
from priyom_intake_email.store import (
    Checkpoint,
    imap_ingested,
    key_digest,
    migrate_database,
    open_checkpoints,
)


async def test_the_persons_message_ids_are_cleared_and_their_mail_still_recognised(database_url: str) -> None:
    await asyncio.to_thread(migrate_database, database_url)
    theirs, others = "email:<anna.petrova.1@example.ru>#01", "email:<x1@example.org>#02"
    async with open_checkpoints(database_url) as checkpoints:
        await checkpoints.save("support", Checkpoint(5, 2), [(theirs, "<anna.petrova.1@example.ru>"),
                                                             (others, "<x1@example.org>")])
        erasure_id = uuid.uuid4()
        erasure = ClientErased(correlation_id=erasure_id, channel="api", idempotency_key=f"erasure:{erasure_id}",
                               erasure_id=erasure_id, client_id=uuid.uuid4(), contact_key_digests=[key_digest(theirs)])
        assert await erasure_redaction.redact(checkpoints.database, erasure) == {"intake-email.imap_ingested": 1}
        async with checkpoints.database.sessions() as session:
            ids = sorted(filter(None, (await session.execute(select(imap_ingested.c.message_id))).scalars()))
        assert ids == ["<x1@example.org>"]
        assert await checkpoints.ingested("support", theirs), "still recognised by its digest"
