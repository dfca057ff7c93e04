"""The HTTP shell every service runs in: FastAPI with the bus in its lifespan, ``/health`` and ``/metrics``.

Consumers and HTTP routes live in one process per service so one readiness check covers both, and so a
service is started, stopped and supervised the same way whether it consumes, publishes or serves.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from .auth import Authenticator, admin_token_authenticator
from .bus import Bus
from .logging import configure_logging, get_logger
from .settings import ServiceSettings

Check = Callable[[], Awaitable[bool]]
Hook = Callable[[], Awaitable[None]]


@dataclass
class ServiceParts:
    """Everything :func:`build_app` needs; each service's ``app.py`` fills it in."""

    name: str
    title: str
    settings: ServiceSettings
    bus: Bus
    registry: CollectorRegistry
    routers: Sequence[APIRouter] = ()
    checks: dict[str, Check] = field(default_factory=dict)
    on_start: Sequence[Hook] = ()
    on_stop: Sequence[Hook] = ()
    #: Run once the bus is up (``on_start`` runs before it): what must be able to publish at once, such as
    #: a channel registering its webhook or starting to poll.
    after_start: Sequence[Hook] = ()
    #: Run before the bus stops (``on_stop`` runs after it): closing what receives and publishes, such as
    #: a listening port, while the publishes still in flight can be confirmed.
    before_stop: Sequence[Hook] = ()
    authenticator: Authenticator | None = None
    description: str = ""
    #: Set on ``app.state`` by name: what module-level routes read through their dependencies.
    state: Mapping[str, Any] = field(default_factory=dict)


def build_app(parts: ServiceParts) -> FastAPI:
    """Assemble the service's FastAPI app. Nothing connects until the app starts."""
    log = get_logger(f"priyom.{parts.name}")

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        configure_logging(parts.name, parts.settings.log_level, parts.settings.log_json)
        for hook in parts.on_start:
            await hook()
        await parts.bus.start()
        for hook in parts.after_start:
            await hook()
        log.info("started", service=parts.name, port=parts.settings.port)
        try:
            try:
                yield
            finally:
                for hook in parts.before_stop:
                    await hook()
        finally:
            await parts.bus.stop()
            for hook in parts.on_stop:
                await hook()
            log.info("stopped", service=parts.name)

    app = FastAPI(title=parts.title, description=parts.description, version="0.1.0", lifespan=lifespan)
    app.state.parts = parts
    for name, value in parts.state.items():
        setattr(app.state, name, value)
    app.state.authenticator = parts.authenticator or admin_token_authenticator(parts.settings.admin_token)
    checks: dict[str, Check] = {"broker": parts.bus.ping, **parts.checks}

    @app.get("/health", tags=["operations"], summary="Readiness: broker and database reachable")
    async def health() -> JSONResponse:
        results = await asyncio.gather(*(_safe(check) for check in checks.values()))
        detail = dict(zip(checks, results, strict=True))
        ok = all(results)
        return JSONResponse({"status": "ok" if ok else "unavailable", "service": parts.name, "checks": detail},
                            status_code=200 if ok else 503)

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(parts.registry), media_type=CONTENT_TYPE_LATEST)

    for router in parts.routers:
        app.include_router(router)
    return app


async def _safe(check: Check) -> bool:
    try:
        return bool(await asyncio.wait_for(check(), timeout=5))
    except Exception:  # noqa: BLE001 - a failing check is an answer, not an error
        return False


def run(app_factory: str, settings: ServiceSettings) -> None:
    """Serve ``module:factory`` with uvicorn on the service's host and port."""
    import uvicorn

    uvicorn.run(app_factory, factory=True, host=settings.host, port=settings.port,
                log_config=None, access_log=False, lifespan="on")


def cli(argv: Sequence[str], *, serve: Callable[[], None], migrate: Callable[[], None] | None = None) -> Any:
    """``python -m priyom_<svc> [serve|migrate]``: the same two verbs for every service."""
    verb = argv[0] if argv else "serve"
    if verb == "serve":
        return serve()
    if verb == "migrate" and migrate is not None:
        return migrate()
    raise SystemExit(f"usage: python -m <service> [serve{'|migrate' if migrate else ''}]")
