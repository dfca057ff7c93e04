"""Wiring: the only place intake-telephony's parts meet.

AMI events -> :class:`~.tracker.assembly.CallTracker` -> :class:`~.bridge.CallBridge` (identity lookup over
the bus, ``call.event.v1.phone``, and ``contact.received.v1.phone`` through the outbox); the CTI webhook feeds
the same bridge. The :class:`~.call_journal.CallJournal` keeps both sides' calls in the database and
resumes them at start. Without ``AMI_HOST`` the AMI side is off and the webhook alone serves calls. With
several replicas, one holds the AMI session (the PBX's lease, :mod:`priyom_kit.leases`); the others stand by.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from priyom_contracts import CallEvent, ContactReceived
from priyom_kit import Bus, ServiceParts, build_app, get_logger
from priyom_kit.db import Database
from priyom_kit.http_client import HttpClient
from priyom_kit.leases import LeaderJob, open_leases
from priyom_kit.outbox import Relay
from priyom_kit.periodic import Periodic
from priyom_kit.rpc import RpcClient

from .ami import AmiConnection, AmiState, ChannelFields
from .api import calls_router, cti_router
from .bridge import CallBridge
from .call_journal import AMI, CTI, CallJournal, Source
from .call_ticket import AskHolder, CallTickets, call_ticket_router
from .caller_lookup import IdentityLookup
from .channels import Extensions
from .cti import CtiCalls
from .cti_answer import CtiAnswers
from .holder_relay import HolderRelay, originate_handler, originate_on_holder
from .messages import CallMessages
from .settings import IntakeTelephonySettings
from .staff_directory import StaffDirectory
from .store import telephony_outbox
from .tracker.assembly import CallTracker
from .tracker.call import Call

log = get_logger("priyom.intake-telephony")


def build(settings: IntakeTelephonySettings | None = None) -> ServiceParts:
    settings = settings or IntakeTelephonySettings()
    registry = CollectorRegistry()
    bus = Bus(settings, "intake-telephony", registry)
    bus.publisher(CallEvent)
    bus.publisher(ContactReceived)
    extensions = Extensions(settings.extension_pattern)
    rpc = RpcClient(settings.amqp_url.get_secret_value(), request_ttl_s=max(1.0, settings.lookup_timeout_ms / 1000),
                    name="intake-telephony-lookup")
    lookup = IdentityLookup(rpc, bus.topology.identity_lookup_queue, settings.lookup_timeout_ms / 1000)
    database = Database(settings.database_url)
    relay = Relay(lambda: database.sessions, bus.publish, telephony_outbox, keep_sent=False)
    # Unlimited retry: a contact the broker refused stays staged and goes out at one of the next rounds.
    resend = Periodic("telephony-outbox", relay.flush, every_s=settings.outbox_retry_s)
    tracker = CallTracker(extensions)
    staff_http = HttpClient(base_url=settings.staff_url or "", timeout_s=5.0,
                            token=settings.service_tokens.get("intake-telephony"))
    directory = StaffDirectory(staff_http if settings.staff_url else None)
    read_directory = Periodic("telephony-staff-directory", directory.refresh, every_s=settings.staff_refresh_s)
    cti_calls = CtiCalls(extensions, directory.extension_of)
    journal = CallJournal(database, relay, {AMI: tracker.calls, CTI: cti_calls.calls})
    bridge = CallBridge(CallMessages(settings.pbx_id, settings.default_region, extensions), bus.publish, lookup,
                        registry, journal, cdr_wait_s=settings.cdr_wait_s)

    def on_event(event: Mapping[str, Any]) -> None:
        bridge.handle(tracker.feed(event))
        journal.changed(tracker.take_changed())

    def on_resync(channels: Mapping[str, ChannelFields]) -> None:
        """After a login: calls that started in the gap are taken in, calls that ended in it finished."""
        bridge.handle(tracker.adopt(channels) + tracker.reconcile(set(channels)))
        journal.changed(tracker.take_changed())

    def restore(call: Call, source: Source) -> None:
        if source == CTI:
            cti_calls.calls[call.call_id] = call
        else:
            tracker.restore(call)

    async def recover() -> None:
        """Stage the contacts of calls that had finished and resume the CTI webhook's calls, saved before a
        stop or a crash; then keep saving. The AMI session's calls are the lease holder's (take_over_ami)."""
        await journal.recover(restore, bridge.contact, sources={CTI})
        journal.start()

    async def take_over_ami() -> None:
        """This replica now holds the PBX: the calls the last holder followed (or this one, before a
        restart) are taken from the journal, not from what this replica remembers of an earlier turn."""
        tracker.forget_calls()
        if await journal.recover(restore, bridge.contact, sources={AMI}):
            await relay.flush_quietly()

    ami: AmiConnection | None = None
    if settings.ami_host:
        ami = AmiConnection(host=settings.ami_host, port=settings.ami_port, username=settings.ami_username,
                            secret=settings.ami_secret.get_secret_value() if settings.ami_secret else "",
                            events=settings.ami_events, on_event=on_event,
                            on_resync=on_resync,
                            ping_interval_s=settings.ping_interval_s, backoff_min_s=settings.reconnect_min_s,
                            backoff_max_s=settings.reconnect_max_s)

    leases = open_leases(settings.database_url)
    ami_session: LeaderJob | None = None
    holder: HolderRelay | None = None
    call_tickets = CallTickets(journal, bridge, cti_calls.take)
    if ami is not None:
        connection = ami
        relayed = holder = HolderRelay(
            settings.amqp_url.get_secret_value(), f"{bus.topology.prefix}intake-telephony.ami-holder",
            {"originate": originate_handler(ami.send_action), "call_ticket": call_tickets.serve}, rpc)

        async def hold_ami_session() -> None:
            """The PBX's one AMI session, kept up while this replica holds the PBX's lease: two sessions would
            feed every call event twice (two pop-ups, two contacts per call)."""
            await take_over_ami()
            await connection.start()
            relaying = asyncio.create_task(relayed.serve())  # the other replicas' requests come here now
            try:
                await asyncio.Event().wait()
            finally:
                relaying.cancel()
                await asyncio.gather(relaying, return_exceptions=True)
                await connection.stop()

        ami_session = LeaderJob(f"intake-telephony/ami/{settings.ami_host}:{settings.ami_port}", leases,
                                hold_ami_session)

    async def start_sending() -> None:
        resend.start()
        read_directory.start()

    async def start_ami() -> None:
        if ami_session is None:
            log.info("AMI disabled (AMI_HOST unset): calls arrive through the CTI webhook only")
            return
        ami_session.start()

    async def stop_receiving() -> None:
        """Before the bus stops: no more events in, what they started saved and sent."""
        if ami_session is not None:
            await ami_session.stop()
        await bridge.drain()
        await journal.stop()
        await resend.stop()
        await read_directory.stop()

    async def stop() -> None:
        await staff_http.close()
        await rpc.close()
        await database.close()
        await leases.close()

    checks = {"database": database.ping}
    if ami is not None and ami_session is not None:
        async def ami_connected() -> bool:
            return ami.state is AmiState.CONNECTED

        checks["ami"] = ami_session.healthy_when(ami_connected)  # a standby holds no session

    async def send_action(action: dict[str, str]) -> Any:
        """On the PBX's session: this replica's if it holds it, else the holder's (holder_relay.py)."""
        if ami is None or holder is None or ami_session is None:
            raise ConnectionError("AMI is not configured")
        if ami_session.role == "leader":
            return await ami.send_action(action)
        return await originate_on_holder(holder, action)

    def ask_holder() -> AskHolder | None:
        """How a standby reaches the holder of the PBX's session with a call's ticket (holder_relay.py)."""
        if holder is None or ami_session is None or ami_session.role == "leader":
            return None
        relay = holder
        return lambda request: relay.ask("call_ticket", request)

    routers = [
        calls_router(ami, extensions, context=settings.originate_context, send_action=send_action,
                     channel_template=settings.originate_channel, timeout_s=settings.originate_timeout_s),
        call_ticket_router(call_tickets, ask_holder),
        cti_router(settings.cti_secret, cti_calls, bridge,
                   CtiAnswers(settings.cti_blocked_callers, settings.cti_outbound_caller_id, settings.default_region)),
    ]
    parts = ServiceParts(name="intake-telephony", title="Priyom intake-telephony", settings=settings, bus=bus,
                         registry=registry, routers=routers, checks=checks,
                         on_start=[database.open, recover, rpc.connect, staff_http.open],
                         after_start=[start_sending, start_ami], before_stop=[stop_receiving], on_stop=[stop],
                         leader_jobs=[ami_session] if ami_session is not None else [],
                         description="The telephony channel: Asterisk AMI and CTI webhook calls become caller "
                                     "pop-ups (call.event.v1.phone) and contacts (contact.received.v1.phone)")
    parts.tracker = tracker  # type: ignore[attr-defined]  # for tests and the bench: what the service follows
    parts.bridge = bridge  # type: ignore[attr-defined]
    parts.ami = ami  # type: ignore[attr-defined]
    parts.journal = journal  # type: ignore[attr-defined]
    parts.staff_directory = directory  # type: ignore[attr-defined]
    return parts


def create_app() -> FastAPI:
    return build_app(build())
