"""Wiring: the only place intake-messenger's parts meet; for now only the bus (no channel yet)."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from priyom_kit import Bus, ServiceParts, build_app

from .settings import IntakeMessengerSettings


def build(settings: IntakeMessengerSettings | None = None) -> ServiceParts:
    settings = settings or IntakeMessengerSettings()
    registry = CollectorRegistry()
    bus = Bus(settings, "intake-messenger", registry)
    return ServiceParts(name="intake-messenger", title="Priyom intake-messenger", settings=settings, bus=bus,
                        registry=registry,
                        description="The messenger channel (foundation shell: bus and health only)")


def create_app() -> FastAPI:
    return build_app(build())
