"""Tracing through the bus (real RabbitMQ) and the outbox (real database), and the ids on every log line.

The process's tracer provider is OpenTelemetry's global one, settable once: these tests install an SDK
provider recording in memory, which is what ``OTEL_EXPORTER_OTLP_ENDPOINT`` would install with an exporter.
"""

from __future__ import annotations

import asyncio
import io
import logging
import uuid
from collections.abc import Iterator

import aio_pika
import httpx
import pytest
import structlog
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from priyom_contracts import ClientMatch, ContactIdentified, ContactReceived, Event, MatchKind
from priyom_kit import HttpClient, get_logger, tracing
from priyom_kit.correlation import request_correlation_id
from priyom_kit.logging import configure_logging
from priyom_kit.outbox import Relay, stage_events
from priyom_kit.rpc import RpcClient
from priyom_kit.tracing import current_carrier, current_trace_ids

from .test_bus import contact_event, make_bus
from .test_outbox import outbox_on
from .test_rpc import responding

_EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(tracing.QueryRedactor())  # as configure_tracing installs it
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


def identified(event: ContactReceived) -> ContactIdentified:
    client = ClientMatch(client_id=uuid.uuid4(), first_contact=True, match=MatchKind.NEW)
    return ContactIdentified(correlation_id=event.correlation_id, channel=event.channel,
                             idempotency_key=event.idempotency_key, contact=event.contact, client=client)


def parent_of(span: ReadableSpan, finished: list[ReadableSpan]) -> ReadableSpan:
    assert span.parent is not None, span.name
    return next(s for s in finished if s.context.span_id == span.parent.span_id)


async def test_a_consumer_continues_the_publishers_trace_through_two_hops(
        amqp_url: str, cleanup_bus: str, spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch) -> None:
    """traceparent goes into the AMQP headers; each consumer's span is a child of the publish that sent it."""
    monkeypatch.setattr(tracing, "_provider", trace.get_tracer_provider())  # what configure_tracing installs
    bus = make_bus(cleanup_bus, OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:4318")
    seen: dict[str, str | None] = {}
    done = asyncio.Event()

    @bus.consumer("identity.contacts")
    async def identify(event: ContactReceived) -> None:
        seen["traceparent"] = current_carrier() and current_carrier()["traceparent"]  # type: ignore[index]
        await bus.publish(identified(event))

    @bus.consumer("router.contacts")
    async def route(event: ContactIdentified) -> None:
        done.set()

    tracer = trace.get_tracer("test")
    await bus.start()
    try:
        with tracer.start_as_current_span("form POST", kind=SpanKind.SERVER) as root:
            await bus.publish(contact_event("traced"))
        await asyncio.wait_for(done.wait(), 15)
        await asyncio.sleep(0.3)  # the process span ends after the handler returns
    finally:
        await bus.stop()

    finished = list(spans.get_finished_spans())
    trace_id = root.get_span_context().trace_id
    assert {s.context.trace_id for s in finished} == {trace_id}
    process = {s.name: s for s in finished if s.kind is SpanKind.CONSUMER and s.name.endswith("process")}
    first = next(s for name, s in process.items() if "contact.received.v1" in name)
    second = next(s for name, s in process.items() if "contact.identified.v1" in name)
    first_publisher = parent_of(first, finished)
    assert first_publisher.kind is SpanKind.PRODUCER and parent_of(first_publisher, finished).name == "form POST"
    second_publisher = parent_of(second, finished)
    assert second_publisher.kind is SpanKind.PRODUCER and parent_of(second_publisher, finished) is first
    assert seen["traceparent"] and f"{trace_id:032x}" in seen["traceparent"]


async def test_a_relayed_outbox_event_continues_the_trace_that_staged_it(
        database_url: str, spans: InMemorySpanExporter) -> None:
    """Staged inside a span, published later by a relay with no span of its own (the periodic resend)."""
    table, database = await outbox_on(database_url, "trace_outbox")
    published: list[tuple[Event, tuple[str, str] | None]] = []

    async def publish(event: Event) -> None:
        published.append((event, current_trace_ids()))

    try:
        with trace.get_tracer("test").start_as_current_span("handle delivery") as staging:
            async with database.sessions() as session:
                await stage_events(session, table, [contact_event("staged")])
                await session.commit()
        async with database.sessions() as session:
            untraced = contact_event("untraced")
            await stage_events(session, table, [untraced])
            await session.commit()
        assert current_trace_ids() is None
        await Relay(lambda: database.sessions, publish, table).flush()
    finally:
        await database.close()

    context = staging.get_span_context()
    assert published[0][1] == (f"{context.trace_id:032x}", f"{context.span_id:016x}")
    assert published[1][1] is None  # staged outside any trace: published outside one


def test_log_lines_carry_trace_and_correlation_ids(spans: InMemorySpanExporter) -> None:
    """The ids stay whole: a contact id's all-digit group (``-4123-9067-``) is not masked as a phone number."""
    contact_id = "7bd6104a-78f4-4123-9067-5f46d5a72486"
    stream = io.StringIO()
    configure_logging("kit-test", "INFO", json=True)
    logging.getLogger().handlers[0].setStream(stream)  # type: ignore[attr-defined]
    with trace.get_tracer("test").start_as_current_span("work") as span, \
            structlog.contextvars.bound_contextvars(correlation_id=contact_id):
        get_logger("priyom.test").info("handled", contact="anna@example.ru")
        logging.getLogger("some.library").warning("from the stdlib")
    lines = stream.getvalue().splitlines()
    trace_id = f"{span.get_span_context().trace_id:032x}"
    assert len(lines) == 2
    for line in lines:
        assert f'"trace_id": "{trace_id}"' in line and f'"correlation_id": "{contact_id}"' in line
    assert "anna@example.ru" not in lines[0]  # masked as before


def test_an_http_correlation_id_is_taken_only_when_it_looks_like_an_id() -> None:
    assert request_correlation_id([(b"x-request-id", b"req-42")]) == (b"x-request-id", b"req-42")
    assert request_correlation_id([(b"x-correlation-id", b"abc"), (b"x-request-id", b"x")])[1] == b"abc"
    name, made = request_correlation_id([(b"x-request-id", b"evil\nline=1")])
    assert name == b"x-request-id" and len(made) == 32 and b"evil" not in made


async def test_the_kits_http_client_sends_traceparent_in_a_client_span(
        spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch) -> None:
    """What configure_tracing installs when tracing is on: here the test's provider."""
    monkeypatch.setattr(tracing, "_provider", trace.get_tracer_provider())
    received: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200, json={})

    client = HttpClient(base_url="http://identity.test", transport=httpx.MockTransport(answer))
    await client.open()
    try:
        with trace.get_tracer("test").start_as_current_span("handle delivery") as parent:
            await client.get("/api/v1/clients", params={"phone": "+79165550101"})
    finally:
        await client.close()
    trace_id = f"{parent.get_span_context().trace_id:032x}"
    assert trace_id in received[0].headers["traceparent"]
    (client_span,) = [s for s in spans.get_finished_spans() if s.kind is SpanKind.CLIENT]
    assert client_span.parent is not None and client_span.parent.span_id == parent.get_span_context().span_id
    assert f"{client_span.context.span_id:016x}" in received[0].headers["traceparent"]
    assert "79165550101" not in str(client_span.attributes), client_span.attributes  # no query in a span
    assert client_span.attributes["http.url"] == "http://identity.test/api/v1/clients?…"


async def test_a_lookup_request_and_its_answer_are_one_trace(
        amqp_url: str, spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch) -> None:
    """The caller lookup's own request/reply: the responder's span is a child of the request's span."""
    monkeypatch.setattr(tracing, "_provider", trace.get_tracer_provider())

    async def answer(message: aio_pika.abc.AbstractIncomingMessage) -> bytes:
        with tracing.traced(f"{message.routing_key} process", SpanKind.SERVER, message.headers):
            return b"card"

    async with responding(amqp_url, answer) as queue_name, RpcClient(amqp_url) as rpc:
        assert await rpc.request(queue_name, b"who", timeout=10) == b"card"
    finished = spans.get_finished_spans()
    request = next(s for s in finished if s.name == f"{queue_name} request")
    answer = next(s for s in finished if s.name == f"{queue_name} process")
    assert request.kind is SpanKind.CLIENT and answer.parent is not None
    assert answer.parent.span_id == request.context.span_id and answer.context.trace_id == request.context.trace_id
