"""Wiring: the only place the portal's parts meet."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from priyom_kit import Bus, ServiceParts, build_app
from priyom_kit.cors import PublicPathCORS
from priyom_kit.db import Database
from priyom_kit.periodic import Periodic

from .api import PortalParts, kb_router, pages_router
from .api.dependencies import FeedbackLimits
from .body_cap import BodyCap
from .deflection import DeflectionMetrics
from .settings import PortalSettings

#: The routes a customer's browser calls from the web form's origin (search, suggestions, feedback). Staff
#: routes share the prefix but need an Authorization header, which the CORS policy does not let through.
PUBLIC_PREFIX = "/api/v1/kb/"


def build(settings: PortalSettings | None = None) -> ServiceParts:
    settings = settings or PortalSettings()
    registry = CollectorRegistry()
    # The portal consumes and publishes nothing yet; the bus is there for the shell's readiness and for the
    # customers' requests and replies to come.
    bus = Bus(settings, "portal", registry)
    database = Database(settings.database_url)
    metrics = DeflectionMetrics(
        registry, lambda: database.sessions, timedelta(days=settings.deflection_window_days)
    )
    refresh = Periodic("kb-deflection-rate", metrics.refresh, every_s=settings.deflection_refresh_s)
    portal = PortalParts(database, metrics, FeedbackLimits(settings.feedback_rate), settings.public_url)
    return ServiceParts(
        name="portal",
        title="Priyom portal",
        settings=settings,
        bus=bus,
        registry=registry,
        routers=[kb_router, pages_router],
        checks={"database": database.ping},
        on_start=[database.open],
        after_start=[refresh.launch],
        before_stop=[refresh.stop],
        on_stop=[database.close],
        state={"portal": portal},
        description="The customers' self-service site: the knowledge base, searched in Russian and English, "
        "and articles offered while a customer types a request.",
    )


def create_app(parts: ServiceParts | None = None) -> FastAPI:
    parts = parts or build()
    app = build_app(parts)
    settings: PortalSettings = parts.settings  # type: ignore[assignment]
    app.add_middleware(BodyCap)
    app.add_middleware(PublicPathCORS, prefix=PUBLIC_PREFIX, origins=settings.cors_origins)
    return app
