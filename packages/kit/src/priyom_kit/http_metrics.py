"""Prometheus metrics of every HTTP request a service answers: how many, how long, how they ended.

Labelled by the route's template (``/api/v1/tickets/{number}``), never the raw path: a path carries ticket
numbers and client ids, which would make one series per ticket (and put ids in the metrics store). A request
no route matched is counted under ``<unmatched>``, so a scan of random URLs cannot grow the series either.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "<unmatched>"
#: Seconds; from a health check to a slow upload.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class HttpMetricSet:
    """``priyom_http_requests_total{method,route,status}`` and ``priyom_http_request_duration_seconds``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter("priyom_http_requests", "HTTP requests answered, by route template, method "
                                "and status", ["method", "route", "status"], registry=registry)
        self.duration = Histogram("priyom_http_request_duration_seconds", "Time to answer an HTTP request, by "
                                  "route template and method", ["method", "route"], buckets=BUCKETS,
                                  registry=registry)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.duration.labels(method, route).observe(seconds)


class HttpMetrics:
    """ASGI middleware feeding an :class:`HttpMetricSet`. A request that raised counts as a 500."""

    def __init__(self, app: ASGIApp, metrics: HttpMetricSet) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            # The router wrote the matched route into the scope on the way in.
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            self.metrics.observe(scope["method"], route, status, time.perf_counter() - started)
