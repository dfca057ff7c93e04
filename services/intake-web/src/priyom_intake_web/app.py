"""Wiring: the only place intake-web's parts meet. It consumes nothing; it only publishes."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter

from priyom_contracts import ContactReceived
from priyom_kit import Bus, ServiceParts, build_app
from priyom_kit.blobs import open_blob_store
from priyom_kit.gate import Gate
from priyom_kit.rate_windows import open_storage

from .api import Guards, contacts_router
from .challenge import Challenge, NoChallenge, ProofOfWork
from .origins import OriginPolicy
from .page import render_page
from .rate_limits import SubmissionLimits
from .settings import IntakeWebSettings


def make_challenge(settings: IntakeWebSettings) -> Challenge:
    """The bot check the settings name (a CAPTCHA provider would be one more branch here)."""
    if settings.challenge == "none":
        return NoChallenge()
    key = settings.challenge_key.get_secret_value().encode() if settings.challenge_key else None
    return ProofOfWork(key, settings.challenge_difficulty, settings.challenge_ttl_s)


def build(settings: IntakeWebSettings | None = None) -> ServiceParts:
    settings = settings or IntakeWebSettings()
    registry = CollectorRegistry()
    bus = Bus(settings, "intake-web", registry)
    bus.publisher(ContactReceived)
    blobs = open_blob_store(settings)  # PRIYOM_BLOB_S3_BUCKET or PRIYOM_BLOB_DIR, as every service
    storage = open_storage(settings.rate_limit_storage)
    guards = Guards(
        origins=OriginPolicy(settings.allowed_origins),
        limits=SubmissionLimits(storage, settings.rate_limit_per_ip, settings.rate_limit_per_identifier),
        gate=Gate(settings.max_concurrent_submissions),
        challenge=make_challenge(settings),
        refused=Counter("priyom_web_refused", "Submissions refused or dropped, by reason", ["reason"],
                        registry=registry),
    )
    router = contacts_router(settings, bus.publish, blobs, render_page(settings), guards)
    # Counters in Redis are shared, so Redis is part of being ready; memory is always there.
    checks = {"rate_limits": storage.check} if settings.rate_limit_storage.startswith("redis") else {}
    return ServiceParts(name="intake-web", title="Priyom intake-web", settings=settings, bus=bus,
                        registry=registry, routers=[router], checks=checks,
                        description="The public web form and its API; each submission is a ContactReceived")


def create_app() -> FastAPI:
    return build_app(build())
