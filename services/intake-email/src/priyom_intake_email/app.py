"""Wiring: the only place intake-email's parts meet. For now only the bus; the channel is not built yet."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from priyom_kit import Bus, ServiceParts, build_app

from .settings import IntakeEmailSettings


def build(settings: IntakeEmailSettings | None = None) -> ServiceParts:
    settings = settings or IntakeEmailSettings()
    registry = CollectorRegistry()
    bus = Bus(settings, "intake-email", registry)
    return ServiceParts(name="intake-email", title="Priyom intake-email", settings=settings, bus=bus,
                        registry=registry,
                        description="The email channel (foundation shell: bus and health only)")


def create_app() -> FastAPI:
    return build_app(build())
