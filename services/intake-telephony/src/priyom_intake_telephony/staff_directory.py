"""Who is on which phone extension, read from tickets' staff records: how the agent names a CTI post carries
become the extensions their pop-ups go to.

Zammad's generic CTI names agents (``user[]``: "Christopher Miller"), while pop-ups go to extensions. Tickets
keeps each staff member's extension on their record, so the directory is read from there
(``GET /api/v1/staff/extensions`` at ``PRIYOM_STAFF_URL``, with this service's credential from
``PRIYOM_SERVICE_TOKENS``) at start and every ``INTAKE_TELEPHONY_STAFF_REFRESH_S``: one list of extensions,
kept where the console already reads it. A failed read leaves the last directory in use (the periodic job logs
it); without ``PRIYOM_STAFF_URL`` the directory is empty and names stay names.
"""

from __future__ import annotations

from pydantic import TypeAdapter

from priyom_contracts import StaffExtension
from priyom_kit.http_client import HttpClient

_STAFF = TypeAdapter(list[StaffExtension])


def folded(name: str) -> str:
    """A name as the directory compares it: case and runs of spaces do not matter ("christopher  MILLER")."""
    return " ".join(name.split()).casefold()


class StaffDirectory:
    """``extension_of(name)``; :meth:`refresh` reads tickets' list again (a :class:`~priyom_kit.Periodic` job)."""

    def __init__(self, tickets: HttpClient | None = None) -> None:
        self.tickets = tickets
        self._by_name: dict[str, str] = {}
        self.loaded = False

    def extension_of(self, name: str) -> str | None:
        return self._by_name.get(folded(name))

    async def refresh(self) -> None:
        """Read the directory from tickets; raises (and keeps the last one) when tickets cannot answer."""
        if self.tickets is None:
            return
        response = await self.tickets.client.get("/api/v1/staff/extensions")
        response.raise_for_status()
        self._by_name = {folded(member.name): member.extension for member in _STAFF.validate_json(response.content)}
        self.loaded = True
