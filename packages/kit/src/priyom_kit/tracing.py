"""OpenTelemetry tracing across HTTP and the bus, exported over OTLP/HTTP only when a collector is named.

One contact crosses four processes (intake-web, identity, router, tickets) over HTTP and AMQP. With
``OTEL_EXPORTER_OTLP_ENDPOINT`` set, each process sends its spans to that collector, and the W3C
``traceparent`` (and ``tracestate``) travels with every request and every message, so the contact's whole way
is one trace:

* incoming HTTP: the FastAPI instrumentation (``/health``, ``/livez`` and ``/metrics`` left out);
* outgoing HTTP: the httpx instrumentation on the kit's one client (:mod:`.http_client`);
* the bus: faststream's own ``RabbitTelemetryMiddleware`` injects the context into the headers of every
  publish, and each delivery's span (:func:`traced`, in the kit's consumers) is a child of the publisher's;
* the caller lookup's own request/reply (:mod:`.rpc`, outside faststream): :func:`traced` spans on both sides,
  the context in the request's headers;
* the outbox: the context is kept with the staged row (:func:`current_carrier`) and put back around the
  later publish (:func:`restored`), so a relayed event continues the trace that staged it, even after a
  restart.

No query string reaches a span: the instrumentations record whole URLs (``/api/v1/tickets?q=<a name>``, a
lookup by phone number, a one-time socket ticket), and :class:`QueryRedactor` cuts them as the logs do.

Without the variable nothing is installed: no SDK provider, no middleware, no instrumentation; the API's
no-op tracer is all that runs (a context-variable read per log line and per staged event).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.trace import Span, SpanProcessor
from opentelemetry.trace import SpanKind

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI
    from faststream._internal.types import BrokerMiddleware
    from opentelemetry.sdk.trace import TracerProvider

    from .settings import ServiceSettings

#: What is not traced: probes and scrapes, several a second and of no interest in a contact's trace.
UNTRACED_PATHS = "/health,/livez,/metrics"

#: The span attributes that may hold a URL or its query (old and new HTTP semantic conventions).
URL_ATTRIBUTES = ("http.url", "url.full", "http.target", "url.query")

_provider: TracerProvider | None = None


class QueryRedactor(SpanProcessor):
    """Cuts the query string from every URL attribute as the span starts (the HTTP instrumentations set
    them then), before any exporter can see it: ``/api/v1/clients?…``."""

    def on_start(self, span: Span, parent_context: context.Context | None = None) -> None:
        for key in URL_ATTRIBUTES:
            value = (span.attributes or {}).get(key)
            if isinstance(value, str) and (key == "url.query" or "?" in value):
                span.set_attribute(key, "…" if key == "url.query" else value.split("?", 1)[0] + "?…")


def tracing_enabled(settings: ServiceSettings) -> bool:
    """Whether this deployment exports traces (``OTEL_EXPORTER_OTLP_ENDPOINT`` is set)."""
    return bool(settings.otlp_endpoint)


def configure_tracing(service: str, settings: ServiceSettings) -> TracerProvider | None:
    """Install the process's tracer provider exporting to the configured collector, once per process; ``None``
    when tracing is off. The provider is OpenTelemetry's global one because the instrumentations read it."""
    global _provider
    if not tracing_enabled(settings):
        return None
    if _provider is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        endpoint = str(settings.otlp_endpoint).rstrip("/") + "/v1/traces"
        resource = Resource.create({SERVICE_NAME: settings.otel_service_name or service})
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(QueryRedactor())  # first: it runs before the exporter's processor
        # The batch's delay and size come from the SDK's own variables (OTEL_BSP_SCHEDULE_DELAY, …).
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        trace.set_tracer_provider(provider)
        _provider = provider
    return _provider


def shutdown_tracing() -> None:
    """Send what is still buffered before the process exits (the batch processor would drop it)."""
    if _provider is not None:
        _provider.force_flush(timeout_millis=5000)


def bus_middlewares(settings: ServiceSettings) -> list[BrokerMiddleware[Any]]:
    """faststream's telemetry middleware when tracing is on, else nothing."""
    if not tracing_enabled(settings):
        return []
    from faststream.rabbit.opentelemetry import RabbitTelemetryMiddleware

    return [RabbitTelemetryMiddleware()]


def instrument_fastapi(app: FastAPI, service: str, settings: ServiceSettings) -> None:
    """A server span for every request but the probes, named by its route template (``POST /api/v1/contacts``)."""
    provider = configure_tracing(service, settings)
    if provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    # No span per ASGI receive and send: two or more per request that say nothing the server span does not.
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls=UNTRACED_PATHS,
                                       exclude_spans=["receive", "send"])


def instrument_httpx(client: httpx.AsyncClient) -> None:
    """A client span for every request ``client`` sends, with ``traceparent`` added, when tracing is on."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor.instrument_client(client, tracer_provider=_provider)


@contextmanager
def traced(name: str, kind: SpanKind, carrier: Mapping[str, Any] | None = None) -> Iterator[None]:
    """A span for messaging the instrumentations do not see (the lookup's request/reply), a child of the
    context ``carrier`` holds (a request's headers) or else of the current span; nothing when tracing is off."""
    if _provider is None:
        yield
        return
    parent = propagate.extract({k: str(v) for k, v in carrier.items()}) if carrier else None
    with _provider.get_tracer("priyom_kit").start_as_current_span(name, context=parent, kind=kind):
        yield


def current_carrier() -> dict[str, str] | None:
    """The current trace context as W3C headers (``traceparent``, ``tracestate``), or ``None`` outside a
    trace: what an outbox row keeps so its later publish continues this trace."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier or None


@contextmanager
def restored(carrier: Mapping[str, str] | None) -> Iterator[None]:
    """Run the block in the trace context ``carrier`` holds (from :func:`current_carrier`)."""
    if not carrier:
        yield
        return
    token = context.attach(propagate.extract(dict(carrier)))
    try:
        yield
    finally:
        context.detach(token)


def current_trace_ids() -> tuple[str, str] | None:
    """``(trace_id, span_id)`` in hex of the span running now, or ``None`` outside a sampled trace."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")
