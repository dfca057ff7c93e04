"""Wiring: the only place intake-telephony's parts meet; for now only the bus (no channel yet)."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from priyom_kit import Bus, ServiceParts, build_app

from .settings import IntakeTelephonySettings


def build(settings: IntakeTelephonySettings | None = None) -> ServiceParts:
    settings = settings or IntakeTelephonySettings()
    registry = CollectorRegistry()
    bus = Bus(settings, "intake-telephony", registry)
    return ServiceParts(name="intake-telephony", title="Priyom intake-telephony", settings=settings, bus=bus,
                        registry=registry,
                        description="The telephony channel (foundation shell: bus and health only)")


def create_app() -> FastAPI:
    return build_app(build())
