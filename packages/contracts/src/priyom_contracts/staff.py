"""Staff as the tickets service knows them: who a staff token belongs to (``GET /api/v1/me`` on tickets).

Tickets answers with :class:`Me`; a service that accepts staff tokens (intake-telephony's click-to-call) asks
tickets with the caller's own token and reads the same model, so a revoked token stops working at once.
Services read who is on which phone extension as :class:`StaffExtension` (``GET /api/v1/staff/extensions``),
and who is taking contacts now as the router's :class:`AgentAvailability` (``GET /api/v1/agents`` on the router).
"""

from __future__ import annotations

import zoneinfo
from enum import StrEnum
from functools import cache
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from .base import Contract, EmailStr, Event, TicketNumber


class StaffRole(StrEnum):
    """A staff member's role in the tickets service."""

    AGENT = "agent"  # first line: registers, answers, routes
    ENGINEER = "engineer"  # second line: investigates and fixes
    TEAM_HEAD = "team_head"
    SALES = "sales"
    SUPERVISOR = "supervisor"  # and directors: see all, act on all
    ADMIN = "admin"


#: The languages the agent console speaks (its message catalogues, ``static/i18n/<locale>.js`` in tickets).
ConsoleLocale = Literal["ru", "en"]


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _known_zone(name: str) -> str:
    # The IANA database's own list, not ZoneInfo(name): that also opens any file a crafted name reaches.
    if name not in _zone_names():
        raise ValueError(f"not an IANA time zone name: {name!r} (for example Europe/Moscow)")
    return name


#: An IANA time zone name (``Europe/Moscow``, ``America/New_York``), checked against the zone database.
TimeZoneName = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_known_zone)]


class StaffPreferences(Contract):
    """How the console speaks to one agent, set by the agent (``PUT /api/v1/me/preferences`` on tickets) and
    kept on their staff account, so it follows them from one browser to the next. ``null`` means not chosen:
    the console then follows the browser's language and time zone."""

    locale: ConsoleLocale | None = Field(None, description="The console's language: ru or en")
    time_zone: TimeZoneName | None = Field(None, description="Every date and time the console shows is in this "
                                                             "IANA zone (Europe/Moscow, America/New_York)")


class Me(Contract):
    """Who the token belongs to: what the console shows and which queues it offers."""

    name: str
    role: StaffRole
    teams: list[str]
    sees_all: bool = Field(description="Supervisors and admins see every team's tickets")
    extension: str | None = Field(None, description="The phone extension whose calls pop up for this agent")
    telephony: bool = Field(False, description="Calls are handled from the console: a pop-up's caller can be "
                            "called back and its ticket opened or chosen (tickets knows intake-telephony)")
    knowledge_base: bool = Field(False, description="The knowledge base is at hand: searched from a ticket, drafted "
                                 "from a resolution, edited at /console/kb (tickets knows the portal)")
    locale: ConsoleLocale | None = Field(None, description="The console language the agent chose (null: the "
                                                           "browser's)")
    time_zone: str | None = Field(None, description="The IANA time zone the agent chose for dates (null: the "
                                                    "browser's)")


class StaffExtension(Contract):
    """A member of staff reachable on a phone extension. A PBX integration that names agents instead of
    extensions (Zammad's generic CTI sends their real names in ``user[]``) finds here the extension their
    pop-ups go to; tickets keeps the extension on the staff record, so there is no second list to maintain."""

    name: str
    extension: str


class AgentAvailability(Contract):
    """A team member in the router's roster: whether they take contacts now (the website chat says "nobody is
    online" when no one does) and how many open tickets they have."""

    name: str
    teams: list[str]
    available: bool
    open_tickets: int


class StaffNotice(Event):
    """A mail to a member of staff about a ticket (``staff.notice.v1.email``): an escalation that reached them.

    Tickets writes it, in the recipient's console language, to the address on their staff account; intake-email
    only delivers it, through the same relay as replies, as an automatic message. ``idempotency_key`` is the
    notice's own id (the escalation's history line and the recipient), so a redelivery mails once."""

    event_type = "staff.notice"

    email: EmailStr = Field(description="The address on the staff account")
    subject: Annotated[str, StringConstraints(max_length=200)]
    body: Annotated[str, StringConstraints(max_length=4000)]
    ticket_number: TicketNumber | None = None
