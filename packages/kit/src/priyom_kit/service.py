"""The HTTP shell every service runs in: FastAPI with the bus in its lifespan, ``/health``, ``/livez`` and
``/metrics``.

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
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from .auth import Authenticator, route_roles
from .bus import Bus
from .deadlines import bounded
from .heap import settle_after_start
from .http_observability import observe_http
from .leases import LeaderJob
from .logging import configure_logging, get_logger
from .settings import ServiceSettings
from .staff_auth import verifier_for
from .tracing import shutdown_tracing

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
    #: The jobs run once across replicas (:class:`~priyom_kit.leases.LeaderJob`): ``/health`` reports each
    #: one's role here, leader or standby, so an operator sees which replica reads a mailbox or a PBX.
    leader_jobs: Sequence[LeaderJob] = ()


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
        settle_after_start()
        log.info("started", service=parts.name, port=parts.settings.port)
        try:
            try:
                yield
            finally:
                for hook in parts.before_stop:
                    await _bounded(hook(), hook, log)
        finally:
            await _bounded(parts.bus.stop(), parts.bus.stop, log)
            for hook in parts.on_stop:
                await _bounded(hook(), hook, log)
            if (close := getattr(app.state.authenticator, "close", None)) is not None:
                await _bounded(close(), close, log)
            log.info("stopped", service=parts.name)
            shutdown_tracing()

    app = FastAPI(title=parts.title, description=parts.description, version="0.1.0", lifespan=lifespan)
    app.state.parts = parts
    observe_http(app, parts.name, parts.settings, parts.registry)
    for name, value in parts.state.items():
        setattr(app.state, name, value)
    # The admin token, the services' credentials, and staff tokens checked at tickets (staff_auth.py).
    app.state.authenticator = parts.authenticator or verifier_for(parts.settings)
    checks: dict[str, Check] = {"broker": parts.bus.ping, **parts.checks}

    @app.get("/health", tags=["operations"], summary="Readiness: broker and database reachable")
    async def health() -> JSONResponse:
        results = await asyncio.gather(*(_safe(check) for check in checks.values()))
        detail = dict(zip(checks, results, strict=True))
        ok = all(results)
        body: dict[str, Any] = {"status": "ok" if ok else "unavailable", "service": parts.name, "checks": detail}
        if parts.leader_jobs:
            body["jobs"] = {job.name: job.role for job in parts.leader_jobs}
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/livez", tags=["operations"], summary="Liveness: this process's event loop answers")
    async def livez() -> JSONResponse:
        # Deliberately checks nothing outside the process: a broker or database outage makes every pod
        # unready (/health) but must not make the orchestrator restart them all. Being async, this answers
        # only while the event loop turns, so a wedged loop still fails the probe and is restarted.
        return JSONResponse({"status": "alive", "service": parts.name})

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(parts.registry), media_type=CONTENT_TYPE_LATEST)

    document_roles(app.routes)
    for router in parts.routers:
        document_roles(router.routes)
        app.include_router(router)
    return app


def document_roles(routes: Sequence[Any]) -> None:
    """Write each route's roles into the OpenAPI document (``x-priyom-roles``: the roles, or ``public``), so an
    integrator reads who may call what, and the role matrix test checks every route of a running service.
    Done on the routers' own routes, before they are included (FastAPI builds the app's copies from them)."""
    for route in routes:
        if isinstance(route, APIRoute):
            roles = route_roles(route.dependant)
            marker = sorted(roles) if roles is not None else "public"
            route.openapi_extra = {**(route.openapi_extra or {}), "x-priyom-roles": marker}
        elif (inner := getattr(route, "original_router", None)) is not None:  # a router included in a router
            document_roles(inner.routes)


#: The longest one step of a shutdown may take (the bus alone gives its handlers 15 s to finish).
STOP_STEP_S = 20.0


async def _bounded(step: Awaitable[None], what: Callable[..., Any], log: Any) -> None:
    """One step of a shutdown, given :data:`STOP_STEP_S`: a step that hangs (a peer that never answers a
    close) must not keep the others (the database, the bus) from closing, nor the process from exiting
    before its orchestrator's kill; the step is named in the log, so the hang can be found."""
    try:
        await bounded(step, STOP_STEP_S)
    except TimeoutError:
        log.warning("shutdown step overran", step=getattr(what, "__qualname__", repr(what)), limit_s=STOP_STEP_S)


async def _safe(check: Check) -> bool:
    try:
        return bool(await bounded(check(), timeout=5))
    except Exception:  # noqa: BLE001 - a failing check is an answer, not an error
        return False


def run(app_factory: str, settings: ServiceSettings) -> None:
    """Serve ``module:factory`` with uvicorn on the service's host and port.

    WebSockets without per-message deflate: what they carry (a pop-up, a chat line, a ticket's change) is a
    kilobyte or less, so compressing it saved next to nothing on the wire and cost CPU on every send (about a
    tenth of tickets' CPU per pop-up) and a compressor's memory on every open socket (the website chat holds
    thousands)."""
    import uvicorn

    uvicorn.run(app_factory, factory=True, host=settings.host, port=settings.port,
                log_config=None, access_log=False, lifespan="on", ws_per_message_deflate=False)


def cli(argv: Sequence[str], *, serve: Callable[[], None], migrate: Callable[[], None] | None = None) -> Any:
    """``python -m priyom_<svc> [serve|migrate]``: the same two verbs for every service."""
    verb = argv[0] if argv else "serve"
    if verb == "serve":
        return serve()
    if verb == "migrate" and migrate is not None:
        return migrate()
    raise SystemExit(f"usage: python -m <service> [serve{'|migrate' if migrate else ''}]")
