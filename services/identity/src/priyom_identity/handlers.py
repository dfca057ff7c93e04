"""One function per consumed message type; the decisions are in :mod:`.matching` and :mod:`.identify`."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from priyom_contracts import ContactIdentified, ContactReceived
from priyom_kit import Bus, PermanentError, TransientError, get_logger
from priyom_kit.db import Inbox

from .identify import identify_contact
from .matching import NoUsableIdentifier, sender_identifiers

log = get_logger("priyom.identity")

#: Each retry re-reads who owns what; a third clash in a row means something else is wrong.
RACE_ATTEMPTS = 3


class _InboxRaced(Exception):
    """A concurrent delivery of the same message recorded its outcome first."""


async def on_contact_received(event: ContactReceived, *, sessions: async_sessionmaker[AsyncSession],
                              inbox: Inbox, bus: Bus, region: str) -> ContactIdentified:
    """Identify the sender and publish ``ContactIdentified`` once the match is committed.

    The match, its writes and the inbox record share one transaction, and the publish comes after the
    commit: a crash in between leaves the outcome in the inbox, and the redelivery publishes it again
    (same ``message_id``), so downstream sees one identification however often this runs.
    """
    try:
        sender_identifiers(event.contact.sender, region)  # refuse hopeless messages before any I/O
    except NoUsableIdentifier as exc:
        raise PermanentError(str(exc)) from None
    identified = await identify_recorded(event, sessions=sessions, inbox=inbox, region=region)
    await bus.publish(identified)
    log.info("contact identified", contact_id=str(event.contact.contact_id), channel=event.channel,
             client_id=str(identified.client.client_id), match=identified.client.match.value,
             first_contact=identified.client.first_contact,
             possible_duplicates=len(identified.client.possible_duplicates))
    return identified


async def identify_recorded(event: ContactReceived, *, sessions: async_sessionmaker[AsyncSession],
                         inbox: Inbox, region: str) -> ContactIdentified:
    """The outcome recorded for this idempotency key, or a new one committed together with the match.

    Safe to run concurrently: a clash on an identifier or on the inbox key rolls back and reads again.
    """
    for _ in range(RACE_ATTEMPTS):
        try:
            async with sessions() as session, session.begin():
                recorded = await inbox.recall(session, event.idempotency_key)
                if recorded is not None:
                    return ContactIdentified.model_validate(recorded)
                client = await identify_contact(session, event.contact, event.channel, region)
                identified = ContactIdentified(
                    correlation_id=event.correlation_id, channel=event.channel,
                    idempotency_key=event.idempotency_key, contact=event.contact, client=client,
                )
                if not await inbox.record(session, event.idempotency_key, identified.model_dump(mode="json")):
                    raise _InboxRaced
                return identified
        except (IntegrityError, _InboxRaced):
            # Another contact claimed one of these identifiers (or this very message) first: read again.
            log.info("identification raced, retrying", contact_id=str(event.contact.contact_id))
    raise TransientError(f"identifiers kept changing under {RACE_ATTEMPTS} attempts; retry later")
