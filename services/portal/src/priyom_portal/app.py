"""Wiring: the only place the portal's parts meet."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from priyom_contracts import ContactReceived, SignInCode
from priyom_kit import Bus, HttpClient, ServiceParts, build_app
from priyom_kit.blobs import open_blob_store
from priyom_kit.cors import PublicPathCORS
from priyom_kit.db import Database
from priyom_kit.erasure import serve_erasures
from priyom_kit.periodic import Periodic
from priyom_kit.retention import RetentionRule, RetentionSweep

from . import account_erasure
from .account_parts import AccountParts, SignInLimits
from .api import PortalParts, kb_router, new_request_router, pages_router, requests_router, sign_in_router
from .api.dependencies import FeedbackLimits
from .body_cap import BodyCap
from .deflection import DeflectionMetrics
from .peers import Cards, Requests
from .reply_files import FileLimits
from .settings import PortalSettings
from .tables import portal_sessions, portal_sign_in_codes

#: The one route that takes files (a customer's reply): its body may be as large as the files' limits.
UPLOAD_PATHS = re.compile(r"/account/requests/[0-9]{4}-[0-9]{6,9}/reply")
#: The routes a customer's browser calls from the web form's origin (search, suggestions, feedback). Staff
#: routes share the prefix but need an Authorization header, which the CORS policy does not let through.
PUBLIC_PREFIX = "/api/v1/kb/"


def build(settings: PortalSettings | None = None) -> ServiceParts:
    settings = settings or PortalSettings()
    registry = CollectorRegistry()
    # The portal publishes the sign-in codes the channels deliver, and the signed-in customers' messages
    # (replies, confirmations, ratings) as contacts of the "portal" channel; it consumes only erasures.
    bus = Bus(settings, "portal", registry)
    bus.publisher(SignInCode)
    bus.publisher(ContactReceived)
    database = Database(settings.database_url)
    metrics = DeflectionMetrics(
        registry, lambda: database.sessions, timedelta(days=settings.deflection_window_days)
    )
    refresh = Periodic("kb-deflection-rate", metrics.refresh, every_s=settings.deflection_refresh_s)
    portal = PortalParts(database, metrics, FeedbackLimits(settings.feedback_rate), settings.public_url)
    identity = HttpClient(base_url=settings.identity_url or "", token=settings.caller_token,
                          timeout_s=settings.request_timeout_s, follow_redirects=True)
    tickets = HttpClient(base_url=settings.tickets_url or "", token=settings.caller_token,
                         timeout_s=settings.request_timeout_s)
    account = AccountParts(
        secret=settings.session_secret, cards=Cards(identity), requests=Requests(tickets), publish=bus.publish,
        limits=SignInLimits(settings.sign_in_rate_per_identifier, settings.sign_in_rate_per_ip),
        code_ttl=timedelta(seconds=settings.code_ttl_s), code_attempts=settings.code_attempts,
        session_ttl=timedelta(seconds=settings.session_ttl_s), cookie_secure=settings.cookie_secure,
        # Files go where every service keeps them (PRIYOM_BLOB_DIR or S3): tickets reads them from there.
        blobs=open_blob_store(settings), files=FileLimits(settings.max_files, settings.max_file_bytes),
        public_url=settings.public_url)
    # An erasure forgets the person's sign-ins (the only place the portal keeps an identifier).
    serve_erasures(bus, "portal", lambda erasure: account_erasure.redact(database.sessions, erasure))
    # Codes and sessions are kept a day past their end (what a support question about a sign-in needs).
    retention = RetentionSweep("portal", lambda: database.sessions(), [
        RetentionRule(portal_sign_in_codes, "expires_at", timedelta(days=1)),
        RetentionRule(portal_sessions, "expires_at", timedelta(days=1))])
    return ServiceParts(
        name="portal",
        title="Priyom portal",
        settings=settings,
        bus=bus,
        registry=registry,
        routers=[kb_router, pages_router, sign_in_router, requests_router, new_request_router],
        checks={"database": database.ping},
        on_start=[database.open, identity.open, tickets.open],
        after_start=[refresh.launch, retention.launch],
        before_stop=[refresh.stop, retention.stop],
        on_stop=[database.close, identity.close, tickets.close],
        state={"portal": portal, "account": account},
        description="The customers' self-service site: the knowledge base, searched in Russian and English, "
        "articles offered while a customer types a request, and the customer's account (sign-in by a one-time "
        "code, their requests, replies, confirmations and ratings).",
    )


def create_app(parts: ServiceParts | None = None) -> FastAPI:
    parts = parts or build()
    app = build_app(parts)
    settings: PortalSettings = parts.settings  # type: ignore[assignment]
    account: AccountParts = parts.state["account"]
    app.add_middleware(BodyCap, upload_paths=UPLOAD_PATHS, upload_max_bytes=account.files.max_request_bytes)
    app.add_middleware(PublicPathCORS, prefix=PUBLIC_PREFIX, origins=settings.cors_origins)
    return app
