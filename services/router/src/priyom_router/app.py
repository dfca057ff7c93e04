"""Wiring: the only place the router's parts meet."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from priyom_contracts import ContactIdentified
from priyom_kit import Bus, ServiceParts, build_app

from . import handlers
from .rules import RuleSet
from .settings import RouterSettings


def build(settings: RouterSettings | None = None) -> ServiceParts:
    settings = settings or RouterSettings()
    registry = CollectorRegistry()
    bus = Bus(settings, "router", registry)
    rules = RuleSet.load(settings.rules_file)

    @bus.consumer("router.contacts")
    async def on_contact_identified(event: ContactIdentified) -> None:
        await handlers.on_contact_identified(event, rules=rules, bus=bus)

    bus.publisher(handlers.ContactRouted)
    return ServiceParts(name="router", title="Priyom router", settings=settings, bus=bus, registry=registry)


def create_app() -> FastAPI:
    return build_app(build())
