"""Wiring: the only place intake-web's parts meet. It consumes nothing; it only publishes."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from priyom_contracts import ContactReceived
from priyom_kit import Bus, ServiceParts, build_app
from priyom_kit.blobs import open_blob_store

from .api import contacts_router
from .page import render_page
from .settings import IntakeWebSettings


def build(settings: IntakeWebSettings | None = None) -> ServiceParts:
    settings = settings or IntakeWebSettings()
    registry = CollectorRegistry()
    bus = Bus(settings, "intake-web", registry)
    bus.publisher(ContactReceived)
    blobs = open_blob_store(settings)  # PRIYOM_BLOB_S3_BUCKET or PRIYOM_BLOB_DIR, as every service
    router = contacts_router(settings, bus.publish, blobs, render_page(settings))
    return ServiceParts(name="intake-web", title="Priyom intake-web", settings=settings, bus=bus,
                        registry=registry, routers=[router],
                        description="The public web form and its API; each submission is a ContactReceived")


def create_app() -> FastAPI:
    return build_app(build())
