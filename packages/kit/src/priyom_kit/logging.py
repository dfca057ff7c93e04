"""One logger setup for every service: structlog, with personal data masked before anything is written.

Phones and email addresses are masked in every string of every event, so a careless ``log.info(contact=…)``
cannot leak a customer's identity into log storage (152-FZ / GDPR).
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
# Seven or more digits, optionally broken by spaces, dashes, dots or brackets, optionally after a +.
_PHONE = re.compile(r"(?<![\w.])\+?\d(?:[\s\-().]*\d){6,}(?![\w.])")
# Ticket numbers (``2026-000123``) look like phone numbers but are what an operator searches logs for.
_TICKET_NUMBER = re.compile(r"^20\d{2}-\d{6,}$")


def mask_pii(text: str) -> str:
    """Mask emails (``a***@example.com``) and phone numbers (``***4567``) in free text."""
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _PHONE.sub(_mask_phone, text)


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


def configure_logging(service: str, level: str = "INFO", json: bool = False) -> None:
    """Route stdlib and structlog output through one masked renderer on stderr."""
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
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
