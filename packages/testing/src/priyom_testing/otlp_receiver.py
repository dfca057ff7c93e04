"""An OTLP/HTTP trace receiver: what an OpenTelemetry collector is to the services, reduced to keeping spans.

It speaks the real protocol (``POST /v1/traces`` with a protobuf ``ExportTraceServiceRequest``, gzip or not;
a protobuf ``ExportTraceServiceResponse`` back), so a test that points ``OTEL_EXPORTER_OTLP_ENDPOINT`` at it
checks what a real collector would receive.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from ._server import serve_locally

PROTOBUF = "application/x-protobuf"


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    kind: str  # SPAN_KIND_SERVER, SPAN_KIND_CLIENT, SPAN_KIND_PRODUCER, SPAN_KIND_CONSUMER, SPAN_KIND_INTERNAL
    trace_id: str
    span_id: str
    parent_span_id: str  # "" for a root span
    attributes: dict[str, Any]


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind) if kind else None


def decode_spans(request: ExportTraceServiceRequest) -> list[ReceivedSpan]:
    """Every span of one export, with the ``service.name`` of its resource."""
    spans = []
    for resource_spans in request.resource_spans:
        resource = {kv.key: _value(kv.value) for kv in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(ReceivedSpan(
                    service=str(resource.get("service.name", "")),
                    name=span.name,
                    kind=Span.SpanKind.Name(span.kind),
                    trace_id=span.trace_id.hex(),
                    span_id=span.span_id.hex(),
                    parent_span_id=span.parent_span_id.hex(),
                    attributes={kv.key: _value(kv.value) for kv in span.attributes},
                ))
    return spans


@dataclass
class OtlpReceiver:
    """``async with OtlpReceiver() as receiver:`` then ``OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url``."""

    spans: list[ReceivedSpan] = field(default_factory=list)
    url: str = ""

    async def __aenter__(self) -> OtlpReceiver:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/traces", self._export)
        self._runner, self.url = await serve_locally(app)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._runner.cleanup()

    async def _export(self, request: web.Request) -> web.Response:
        if request.content_type != PROTOBUF:
            return web.Response(status=415, text=f"expected {PROTOBUF}")
        body = await request.read()
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        export = ExportTraceServiceRequest()
        export.ParseFromString(body)
        self.spans.extend(decode_spans(export))
        return web.Response(body=ExportTraceServiceResponse().SerializeToString(), content_type=PROTOBUF)

    def trace(self, trace_id: str) -> list[ReceivedSpan]:
        return [span for span in self.spans if span.trace_id == trace_id]

    def tree(self, trace_id: str) -> str:
        """The trace as indented ``service: name (kind)`` lines, children under their parent: for a failing
        assertion's message and for reading what a trace looks like."""
        spans = self.trace(trace_id)
        ids = {span.span_id for span in spans}
        lines: list[str] = []

        def add(parent: str, depth: int) -> None:
            for span in spans:
                if span.parent_span_id == parent or (depth == 0 and span.parent_span_id not in ids):
                    kind = span.kind.removeprefix("SPAN_KIND_").lower()
                    lines.append(f"{'  ' * depth}{span.service}: {span.name} ({kind})")
                    add(span.span_id, depth + 1)

        add("", 0)
        return "\n".join(lines)

    async def wait_for(self, found: Callable[[list[ReceivedSpan]], bool], timeout: float = 30) -> None:
        """Wait until ``found(spans)`` holds (services export in batches, a few seconds apart)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not found(self.spans):
            if asyncio.get_running_loop().time() > deadline:
                names = sorted({(s.service, s.name) for s in self.spans})
                raise AssertionError(f"spans not received after {timeout}s; got {names}")
            await asyncio.sleep(0.2)
