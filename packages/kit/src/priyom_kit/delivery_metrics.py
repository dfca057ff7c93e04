"""How each queue's deliveries went: the three series of faststream's Prometheus middleware that are read, for
a fraction of its CPU.

faststream's ``RabbitPrometheusMiddleware`` measured every delivery five ways (received, size, in process up
and down, handled with its outcome and duration) and every publish twice, looking each labelled series up by
its label values every time, with an object of its own and a settings provider made for each message. That
cost 7-11% of identity's, the router's and tickets' CPU a contact (``bench/e2e.py``, the middleware taken out
and put back, three alternated pairs). What is read of it (the Grafana dashboard, the router's balancing
test) is kept here under the same names and labels, each series looked up once per queue: deliveries
received (``faststream_received_messages_total``), handled by outcome
(``faststream_received_processed_messages_total``, the outcome as faststream names it: acked, nacked,
rejected, skipped, error) and how long the handling took
(``faststream_received_processed_messages_duration_seconds``). Publishes are counted by event and channel by
:mod:`.bus_metrics`.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

BROKER = "rabbitmq"


class DeliveryMetrics:
    """The series of one service's deliveries: the kit's consumers (:mod:`.consumers`) count and time each one
    with :meth:`series` and :meth:`handled`."""

    def __init__(self, registry: CollectorRegistry, app_name: str) -> None:
        self.app_name = app_name
        self.received = Counter("faststream_received_messages", "Deliveries received, by queue's routing key",
                                ["app_name", "broker", "handler"], registry=registry)
        self.processed = Counter("faststream_received_processed_messages", "Deliveries handled, by outcome",
                                 ["app_name", "broker", "handler", "status"], registry=registry)
        self.duration = Histogram("faststream_received_processed_messages_duration_seconds",
                                  "Time a delivery's handling took", ["app_name", "broker", "handler"],
                                  registry=registry)
        #: Each handler's received and duration series, and its handled series by outcome, looked up once.
        self._series: dict[str, tuple[Any, Any]] = {}
        self._outcomes: dict[tuple[str, str], Any] = {}

    def series(self, handler: str) -> tuple[Any, Any]:
        kept = self._series.get(handler)
        if kept is None:
            labels = (self.app_name, BROKER, handler)
            kept = self._series[handler] = (self.received.labels(*labels), self.duration.labels(*labels))
        return kept

    def handled(self, handler: str, status: str) -> Any:
        kept = self._outcomes.get((handler, status))
        if kept is None:
            kept = self._outcomes[(handler, status)] = self.processed.labels(self.app_name, BROKER, handler, status)
        return kept
