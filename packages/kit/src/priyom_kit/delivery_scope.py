"""The kit's one middleware around every delivery: its log lines carry its ids, it is measured, and a failure
goes to the bus's failure policy.

These were three middlewares (the correlation ids, :mod:`.delivery_metrics`, the failure policy). faststream
makes each middleware anew for every delivery, enters and leaves each around it, and passes every publish made
while handling it through each one's ``publish_scope``: three layers a delivery where one does the same. The
ids are bound with structlog's ``bind_contextvars`` and reset by its tokens rather than with
``bound_contextvars``, which reads every context variable of the task first.

What each part does is unchanged: a delivery's ``correlation_id`` (the contact's id) and ``message_id`` are on
every line logged while it is handled; it is counted received, timed and counted by outcome; a failure is
handed to the policy in ``after_processed`` rather than ``consume_scope``, because an undecodable body fails in
faststream's parser, outside ``consume_scope``, and both kinds must reach it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from faststream import BaseMiddleware
from faststream.exceptions import HandlerException

from .delivery_metrics import DeliveryMetrics

#: ``(raw message, queue name, exception) -> whether the delivery may be acknowledged`` (``Bus._handle_failure``).
FailurePolicy = Callable[[Any, str, Exception], Awaitable[bool]]


def delivery_scope(metrics: DeliveryMetrics, on_failure: FailurePolicy) -> type[BaseMiddleware]:
    """The middleware class a service's broker is given (after tracing's, when tracing is on)."""

    class DeliveryScope(BaseMiddleware):
        async def consume_scope(self, call_next: Any, msg: Any) -> Any:
            tokens = structlog.contextvars.bind_contextvars(correlation_id=msg.correlation_id or None,
                                                            message_id=msg.message_id or None)
            try:
                return await metrics.measure(call_next, msg)
            finally:
                structlog.contextvars.reset_contextvars(**tokens)

        async def after_processed(self, exc_type: Any = None, exc_val: Any = None, exc_tb: Any = None) -> bool:
            if exc_val is None or isinstance(exc_val, HandlerException) or not isinstance(exc_val, Exception):
                return False
            subscriber = self.context.get_local("handler_")
            queue = getattr(getattr(subscriber, "queue", None), "name", "")
            return await on_failure(self.msg, queue, exc_val)

    return DeliveryScope
