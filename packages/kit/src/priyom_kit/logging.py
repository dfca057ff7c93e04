"""One logger setup for every service: structlog, with personal data masked before anything is written.

Phones and email addresses are masked in every string of every event, so a careless ``log.info(contact=…)``
cannot leak a customer's identity into log storage (152-FZ / GDPR). Query strings are cut from every URL in
every line, ours and the libraries' (uvicorn logs a WebSocket's whole path and query at INFO): a token, a
one-time ticket or a secret in a URL never reaches the log.

Every line carries the ``trace_id`` and ``span_id`` of the span it was written in (when tracing is on, see
:mod:`.tracing`) and the ``correlation_id`` of what is being handled (:mod:`.correlation`): the contact's id
on the bus, the request id over HTTP. Neither names a person.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

from .tracing import current_trace_ids

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
# Seven or more digits, optionally broken by spaces, dashes, dots or brackets, optionally after a +.
_PHONE = re.compile(r"(?<![\w.])\+?\d(?:[\s\-().]*\d){6,}(?![\w.])")
# Ticket numbers (``2026-000123``) look like phone numbers but are what an operator searches logs for.
_TICKET_NUMBER = re.compile(r"^20\d{2}-\d{6,}$")
#: Ids (contact, message, correlation): kept whole, or a digit-heavy group would be masked as a phone number
#: and the id could no longer be searched for.
_UUID = re.compile(r"([0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12})")
#: ``?key=value&…`` after a path or URL: whatever it carries (a token, a ticket, an address) is cut.
_QUERY = re.compile(r"(?<=[\w/.\-])\?[\w.\-~%+]+=[^\s\"'<>]*")


def mask_pii(text: str) -> str:
    """Mask emails (``a***@example.com``) and phone numbers (``***4567``) in free text, and cut URL query
    strings (``/ws/agent?…``)."""
    text = _QUERY.sub("?…", text)
    # split() keeps the ids at the odd places: only what lies between them is masked.
    parts = _UUID.split(text)
    parts[::2] = [_PHONE.sub(_mask_phone, _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", part))
                  for part in parts[::2]]
    return "".join(parts)


def _mask_phone(match: re.Match[str]) -> str:
    found = match.group(0)
    if _TICKET_NUMBER.match(found):
        return found
    return "***" + re.sub(r"\D", "", found)[-4:]


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, dict):
        return {k: _mask_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_mask_value(v) for v in value)
    return value


def _mask_processor(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    return {k: _mask_value(v) for k, v in event_dict.items()}


def _add_trace_ids(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    ids = current_trace_ids()
    if ids is not None:
        event_dict.setdefault("trace_id", ids[0])
        event_dict.setdefault("span_id", ids[1])
    return event_dict


def configure_logging(service: str, level: str = "INFO", json: bool = False) -> None:
    """Route stdlib and structlog output through one masked renderer on stderr."""
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        _add_trace_ids,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _mask_processor,
    ]
    structlog.configure(
        # Drop a call below the logger's level before any processor runs: without this every debug line
        # (faststream logs two per message) is timestamped and masked, then thrown away by stdlib.
        processors=[structlog.stdlib.filter_by_level, *shared,
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx and httpcore log every request's full URL at INFO, and our service-to-service URLs carry ids of
    # clients and persons (tickets reading identity's card): keep them to warnings, whatever LOG_LEVEL says.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
    structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
