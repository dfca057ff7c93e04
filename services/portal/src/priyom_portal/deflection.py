"""The deflection rate: of the customers offered articles while typing a request, the share one helped.

A "session" is one page of the web form (the browser makes up its id): it counts once it was offered at
least one article, and is deflected once an offered article got "this helped". Both are rows in the
database, so the rate survives restarts and every process of the portal reports the same figure; the gauges
are read again every ``PORTAL_DEFLECTION_REFRESH_S`` seconds over the last ``PORTAL_DEFLECTION_WINDOW_DAYS``.
The counters count what this process saw since it started (for ``rate()`` in PromQL).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .store import deflection_counts


class DeflectionMetrics:
    """``priyom_kb_deflection_rate`` and its parts, and the suggestion and feedback counters."""

    def __init__(
        self,
        registry: CollectorRegistry,
        sessions: Callable[[], async_sessionmaker[AsyncSession]],
        window: timedelta,
    ) -> None:
        self.sessions = sessions
        self.window = window
        self.rate = Gauge(
            "priyom_kb_deflection_rate",
            "Share of the web-form sessions offered knowledge-base "
            "articles in which an offered article helped (PORTAL_DEFLECTION_WINDOW_DAYS)",
            registry=registry,
        )
        self.offered_sessions = Gauge(
            "priyom_kb_suggestion_sessions",
            "Web-form sessions offered articles while typing (PORTAL_DEFLECTION_WINDOW_DAYS)",
            registry=registry,
        )
        self.deflected_sessions = Gauge(
            "priyom_kb_deflected_sessions",
            "Web-form sessions in which an offered article helped (PORTAL_DEFLECTION_WINDOW_DAYS)",
            registry=registry,
        )
        self.suggestions = Counter(
            "priyom_kb_suggestions",
            "Suggestion requests answered, by whether any article was offered",
            ["offered"],
            registry=registry,
        )
        self.feedback = Counter(
            "priyom_kb_feedback", "Feedback on articles, by answer", ["helped"], registry=registry
        )
        self.deflections = Counter(
            "priyom_kb_deflections", "Suggestion sessions an offered article helped", registry=registry
        )

    async def refresh(self) -> None:
        """Read the window's counts from the database into the gauges."""
        async with self.sessions()() as session:
            counts = await deflection_counts(session, self.window)
        self.offered_sessions.set(counts.sessions)
        self.deflected_sessions.set(counts.deflected)
        self.rate.set(counts.rate)
