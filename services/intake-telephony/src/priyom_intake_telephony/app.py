"""Wiring: the only place intake-telephony's parts meet.

AMI events -> :class:`~.tracker.assembly.CallTracker` -> :class:`~.bridge.CallBridge` (identity lookup over
the bus, ``call.event.v1.phone`` and ``contact.received.v1.phone``); the CTI webhook feeds the same bridge.
Without ``AMI_HOST`` the AMI side is off and the webhook alone serves calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from priyom_contracts import CallEvent, ContactReceived
from priyom_kit import Bus, HttpClient, ServiceParts, build_app, get_logger
from priyom_kit.rpc import RpcClient

from .ami import AmiConnection, AmiState
from .api import calls_router, cti_router
from .bridge import CallBridge
from .caller_lookup import IdentityLookup
from .channels import Extensions
from .cti import CtiCalls
from .messages import CallMessages
from .settings import IntakeTelephonySettings
from .staff_auth import StaffAuthenticator
from .tracker.assembly import CallTracker

log = get_logger("priyom.intake-telephony")


def build(settings: IntakeTelephonySettings | None = None) -> ServiceParts:
    settings = settings or IntakeTelephonySettings()
    registry = CollectorRegistry()
    bus = Bus(settings, "intake-telephony", registry)
    bus.publisher(CallEvent)
    bus.publisher(ContactReceived)
    extensions = Extensions(settings.extension_pattern)
    rpc = RpcClient(settings.amqp_url.get_secret_value(), request_ttl_s=max(1.0, settings.lookup_timeout_ms / 1000))
    lookup = IdentityLookup(rpc, bus.topology.identity_lookup_queue, settings.lookup_timeout_ms / 1000)
    bridge = CallBridge(CallMessages(settings.pbx_id, settings.default_region, extensions), bus.publish, lookup,
                        registry, cdr_wait_s=settings.cdr_wait_s, internal_contacts=settings.internal_contacts)
    tracker = CallTracker(extensions)

    def on_event(event: Mapping[str, Any]) -> None:
        bridge.handle(tracker.feed(event))

    ami: AmiConnection | None = None
    if settings.ami_host:
        ami = AmiConnection(host=settings.ami_host, port=settings.ami_port, username=settings.ami_username,
                            secret=settings.ami_secret.get_secret_value() if settings.ami_secret else "",
                            events=settings.ami_events, on_event=on_event,
                            on_resync=lambda live: bridge.handle(tracker.reconcile(set(live))),
                            ping_interval_s=settings.ping_interval_s, backoff_min_s=settings.reconnect_min_s,
                            backoff_max_s=settings.reconnect_max_s)

    async def start_ami() -> None:
        if ami is None:
            log.info("AMI disabled (AMI_HOST unset): calls arrive through the CTI webhook only")
            return
        await ami.start()

    tickets = HttpClient(base_url=settings.tickets_url or "", timeout_s=5.0)
    authenticator = StaffAuthenticator(settings.admin_token, tickets if settings.tickets_url else None)

    async def stop() -> None:
        if ami is not None:
            await ami.stop()
        await bridge.drain()
        await rpc.close()
        await tickets.close()

    checks = {}
    if ami is not None:
        async def ami_connected() -> bool:
            return ami.state is AmiState.CONNECTED

        checks["ami"] = ami_connected

    routers = [
        calls_router(ami, extensions, context=settings.originate_context,
                     channel_template=settings.originate_channel, timeout_s=settings.originate_timeout_s),
        cti_router(settings.cti_secret, CtiCalls(), bridge),
    ]
    parts = ServiceParts(name="intake-telephony", title="Priyom intake-telephony", settings=settings, bus=bus,
                         registry=registry, routers=routers, checks=checks, on_start=[rpc.connect, tickets.open],
                         after_start=[start_ami], on_stop=[stop], authenticator=authenticator,
                         description="The telephony channel: Asterisk AMI and CTI webhook calls become caller "
                                     "pop-ups (call.event.v1.phone) and contacts (contact.received.v1.phone)")
    parts.tracker = tracker  # type: ignore[attr-defined]  # for tests and the bench: what the service follows
    parts.bridge = bridge  # type: ignore[attr-defined]
    parts.ami = ami  # type: ignore[attr-defined]
    return parts


def create_app() -> FastAPI:
    return build_app(build())
