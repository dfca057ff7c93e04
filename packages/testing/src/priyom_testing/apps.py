"""A service's app started in the test's own event loop, as uvicorn would start it.

One place for the lifespan's time limits: asgi-lifespan's default 5 s for a stop is shorter than a service's
own bounded shutdown (the bus gives its handlers 15 s), and tests on a busy machine (``make test`` runs
several workers on two cores) overran it.
"""

from __future__ import annotations

from asgi_lifespan import LifespanManager
from starlette.types import ASGIApp

START_S = 60.0
STOP_S = 60.0


def started(app: ASGIApp) -> LifespanManager:
    """``async with started(app) as manager:``: the app's lifespan entered, and left on exit."""
    return LifespanManager(app, startup_timeout=START_S, shutdown_timeout=STOP_S)
