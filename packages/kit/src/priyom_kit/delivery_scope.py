"""The kit's middleware around every delivery faststream still consumes (the dead letters' keeper): its log lines
carry its ids, and it is measured.

The topology queues' consumers are the kit's own (:mod:`.consumers`), which do the same for each of their
deliveries. The ids are bound with structlog's ``bind_contextvars`` and reset by its tokens rather than with
``bound_contextvars``, which reads every context variable of the task first: a delivery's ``correlation_id``
and ``message_id`` are on every line logged while it is handled; it is counted received, timed and counted by
outcome (:mod:`.delivery_metrics`).
"""

from __future__ import annotations

from typing import Any

import structlog
from faststream import BaseMiddleware

from .delivery_metrics import DeliveryMetrics


def delivery_scope(metrics: DeliveryMetrics) -> type[BaseMiddleware]:
    """The middleware class a service's broker is given (after tracing's, when tracing is on)."""

    class DeliveryScope(BaseMiddleware):
        async def consume_scope(self, call_next: Any, msg: Any) -> Any:
            tokens = structlog.contextvars.bind_contextvars(correlation_id=msg.correlation_id or None,
                                                            message_id=msg.message_id or None)
            try:
                return await metrics.measure(call_next, msg)
            finally:
                structlog.contextvars.reset_contextvars(**tokens)

    return DeliveryScope
