"""Mail to staff about a ticket (``intake-email.staff-notices``): an escalation that reached them.

Tickets writes a :class:`~priyom_contracts.StaffNotice` in the recipient's language; it is only delivered here,
through the same relay as the replies and the sign-in codes, as an automatic message. The address is a member of
staff's, so it is not logged either; a transient relay failure is retried by the bus.
"""

from __future__ import annotations

from datetime import UTC, datetime

from priyom_contracts import StaffNotice
from priyom_kit import Bus

from .outbound import Send
from .settings import IntakeEmailSettings
from .sign_in import automatic_mail, send_automatic


def register_staff_notices(bus: Bus, settings: IntakeEmailSettings, send: Send) -> None:
    @bus.consumer("intake-email.staff-notices")
    async def on_staff_notice(notice: StaffNotice) -> None:
        await send_automatic(send, automatic_mail(str(notice.email), notice.subject, notice.body, kind="notice",
                                                  from_address=settings.from_address, from_name=settings.from_name,
                                                  now=datetime.now(UTC)), "staff notice")
