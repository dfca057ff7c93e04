"""One web contact is one trace: spans from intake-web, identity, router and tickets, each linked to its cause.

The four services run as real processes exporting over OTLP/HTTP to a receiver this test runs (the real
protocol, decoded from protobuf), as they would to an OpenTelemetry collector. The contact crosses HTTP
(the form's POST), the bus three times and the router's outbox; the W3C trace context must survive each.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from priyom_kit.pytest_plugin import delete_prefixed
from priyom_testing.otlp_receiver import OtlpReceiver, ReceivedSpan
from priyom_testing.stack import Stack, stack_env

pytestmark = pytest.mark.e2e

PIPELINE = ("intake-web", "identity", "router", "tickets")


@pytest.fixture
async def receiver() -> AsyncIterator[OtlpReceiver]:
    async with OtlpReceiver() as running:
        yield running


@pytest.fixture
async def traced_stack(tmp_path, receiver: OtlpReceiver, amqp_url: str) -> AsyncIterator[Stack]:  # noqa: ANN001
    """The pipeline's four services on SQLite and a private bus prefix, exporting traces to ``receiver``."""
    prefix = f"e2etrace{uuid.uuid4().hex[:8]}."
    base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env = stack_env(base, workdir=tmp_path, prefix=prefix)
    # Export every 200 ms rather than the SDK's 5 s, so the test waits less.
    env.update(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, OTEL_BSP_SCHEDULE_DELAY="200")
    stack = Stack(env=env, workdir=tmp_path)
    try:
        # In a thread: the receiver answers in this loop while the services start and export.
        await asyncio.to_thread(stack.migrate)
        await asyncio.to_thread(stack.start, PIPELINE)
        yield stack
    finally:
        await asyncio.to_thread(stack.stop)
        await delete_prefixed(amqp_url, prefix)


async def wait_ticket_number(client: httpx.AsyncClient, status_url: str) -> str:
    """Poll the status link the form's page polls (it carries the contact's key)."""
    for _ in range(300):
        response = await client.get(status_url)
        if response.status_code == 200:
            return str(response.json()["number"])
        await asyncio.sleep(0.1)
    raise AssertionError(f"no ticket behind {status_url}")


def consumer_span(spans: list[ReceivedSpan], service: str, event: str) -> ReceivedSpan | None:
    """The span in which ``service`` handled one message of type ``event`` (``contact.received.v1``)."""
    for span in spans:
        if span.service == service and span.kind == "SPAN_KIND_CONSUMER" and event in span.name \
                and span.name.endswith("process"):
            return span
    return None


def ancestors(span: ReceivedSpan, by_id: dict[str, ReceivedSpan]) -> list[ReceivedSpan]:
    chain = []
    while span.parent_span_id:
        span = by_id[span.parent_span_id]  # a KeyError is a broken parent link
        chain.append(span)
    return chain


async def test_one_web_contact_is_one_trace_across_four_services(traced_stack: Stack,
                                                                 receiver: OtlpReceiver) -> None:
    stack = traced_stack
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(f"{stack.url('intake-web')}/api/v1/contacts", headers={
            "X-Request-ID": "trace-test-1"}, json={
            "consent": True, "name": "Вера Тестова", "email": f"vera.{uuid.uuid4().hex[:8]}@example.ru",
            "subject": "Не печатает чек", "message": "Касса не печатает чек после обновления"})
        assert response.status_code == 202, response.text
        assert response.headers["X-Request-ID"] == "trace-test-1"  # the caller's id, echoed
        contact_id = response.json()["contact_id"]
        await wait_ticket_number(client, response.json()["status_url"])

    def root_of_contact(spans: list[ReceivedSpan]) -> ReceivedSpan | None:
        return next((s for s in spans if s.service == "intake-web" and s.kind == "SPAN_KIND_SERVER"
                     and s.name == "POST /api/v1/contacts"), None)

    await receiver.wait_for(root_of_contact)
    root = root_of_contact(receiver.spans)
    assert root is not None and root.parent_span_id == ""

    def complete(spans: list[ReceivedSpan]) -> bool:
        in_trace = [s for s in spans if s.trace_id == root.trace_id]
        return all(consumer_span(in_trace, service, event) for service, event in (
            ("identity", "contact.received.v1"), ("router", "contact.identified.v1"),
            ("tickets", "contact.routed.v1")))

    await receiver.wait_for(complete)
    spans = receiver.trace(root.trace_id)
    print(receiver.tree(root.trace_id))  # what one contact's trace looks like (pytest -s)
    by_id = {span.span_id: span for span in spans}
    assert {span.service for span in spans} >= set(PIPELINE)

    # Each hop's consumer span descends from the previous service's span, back to the form's POST.
    steps = [("identity", "contact.received.v1", "intake-web"), ("router", "contact.identified.v1", "identity"),
             ("tickets", "contact.routed.v1", "router")]
    for service, event, caused_by in steps:
        span = consumer_span(spans, service, event)
        assert span is not None
        parent = by_id[span.parent_span_id]
        assert parent.service == caused_by, (service, parent)
        assert parent.kind == "SPAN_KIND_PRODUCER", parent
        assert ancestors(span, by_id)[-1] == root

    # The router's ContactRouted left through its outbox: the publish still hangs under its delivery.
    routed_publish = by_id[consumer_span(spans, "tickets", "contact.routed.v1").parent_span_id]
    assert consumer_span(spans, "router", "contact.identified.v1") in ancestors(routed_publish, by_id)

    # Log lines of the contact's handling carry the trace id and the contact's id as correlation id.
    await asyncio.sleep(0.5)
    routed_lines = [line for line in stack.log("router").splitlines() if "routed" in line and contact_id in line]
    assert routed_lines, stack.log("router")[-2000:]
    assert f"trace_id={root.trace_id}" in routed_lines[0]
    assert f"correlation_id={contact_id}" in routed_lines[0]
