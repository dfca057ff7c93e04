"""What every service's HTTP side reports: a span per request, a correlation id per request, and the
request metrics. Added by :func:`~priyom_kit.service.build_app` in one call, so the HTTP shell stays about
the service's lifecycle and routes.
"""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from .correlation import HttpCorrelation
from .http_metrics import HttpMetrics, HttpMetricSet
from .settings import ServiceSettings
from .tracing import instrument_fastapi


def observe_http(app: FastAPI, service: str, settings: ServiceSettings, registry: CollectorRegistry) -> None:
    """Metrics outermost (they time everything, errors included), then the correlation id; the tracing
    middleware, when tracing is on, puts itself outside both so their log lines are in the request's span."""
    app.add_middleware(HttpCorrelation)
    app.add_middleware(HttpMetrics, metrics=HttpMetricSet(registry))
    instrument_fastapi(app, service, settings)
