"""The rule book in force: the newest stored version, re-read when a newer one appears.

Each decision asks for the current version (one indexed ``max()``), so a rule book accepted through the API
on any router instance takes effect on every instance at their next contact, without a restart. With no
stored version the built-in (or ``ROUTER_RULES_FILE``) book is version 0.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from priyom_kit import get_logger

from . import store
from .rules import RuleBook, RuleFileError, parse_rule_book

log = get_logger("priyom.router.rules")


class ActiveRules:
    def __init__(self, fallback_text: str) -> None:
        self.fallback_text = fallback_text
        self._fallback = parse_rule_book(fallback_text)
        self._book, self._version = self._fallback, 0

    async def current(self, session: AsyncSession) -> tuple[RuleBook, int]:
        """The active book and its version number."""
        latest = await store.latest_version_number(session)
        if latest is None:
            return self._fallback, 0
        if latest != self._version:
            stored = await store.rule_version(session, latest)
            assert stored is not None
            try:
                self._book, self._version = parse_rule_book(stored.text), latest
                log.info("rule book loaded", version=latest)
            except RuleFileError as exc:
                # Only possible when a newer router reads a book an older one accepted: keep deciding.
                log.error("stored rule book no longer valid, keeping the previous one", version=latest,
                          error=str(exc))
        return self._book, self._version

    async def text(self, session: AsyncSession) -> tuple[str, int]:
        stored = await store.rule_version(session)
        return (stored.text, stored.version) if stored else (self.fallback_text, 0)
