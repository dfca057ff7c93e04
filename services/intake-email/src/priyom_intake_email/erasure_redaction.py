"""What intake-email forgets on an erasure request (``person.erased`` / ``client.erased``).

Its database holds no text or address of a mail: the IMAP checkpoints, the replies it sent (our own
Message-IDs) and, per mail taken from a mailbox, a digest of its idempotency key with the mail's Message-ID,
which may name the writer (``<anna.petrova.1764@example.ru>``). The erasure names the person's contacts by the
same digest, so their Message-IDs are cleared; the digests stay, still recognising the mail should the mailbox
be recreated. The raw mail (``.eml``) and its attachments are in the blob store, deleted by tickets, which
knows which files were the person's. Idempotent.
"""

from __future__ import annotations

from sqlalchemy import or_, update

from priyom_contracts import Erasure
from priyom_kit.db import Database

from .store import imap_ingested

CHUNK = 200


async def redact(database: Database, erasure: Erasure) -> dict[str, int]:
    digests = erasure.contact_key_digests
    if not digests:
        return {"intake-email.imap_ingested": 0}
    scope = or_(*(imap_ingested.c.key_digest.in_(digests[i:i + CHUNK]) for i in range(0, len(digests), CHUNK)))
    async with database.sessions() as session, session.begin():
        result = await session.execute(update(imap_ingested).where(scope).values(message_id=None))
    return {"intake-email.imap_ingested": result.rowcount or 0}
