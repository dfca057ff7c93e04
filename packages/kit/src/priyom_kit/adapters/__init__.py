"""The adapter kit: what a new channel is written against (see ``docs/adapters.md``).

``base``     the :class:`ChannelAdapter` a channel implements (pure: normalise, fetch, deliver)
``edge``     :class:`ChannelEdge`, the bus side every channel shares (blobs, confirmed publish, delivery reports)
``journal``  :class:`SqlDeliveryJournal`, the persistent record that a reply was sent (never sent twice)
``registry`` channels registered under the ``priyom.channels`` entry-point group
``testing``  :class:`AdapterContract`, the test suite every adapter's test file subclasses

Names are imported on first use (PEP 562): a channel's pure mapping module imports ``Inbound`` from here
without importing the broker client, the database driver or Prometheus, which only the edge needs.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import (
        ChannelAdapter,
        Delivered,
        DeliveryError,
        FileRef,
        FileUnavailable,
        Inbound,
        merge_parts,
    )
    from .edge import ChannelEdge, serve_outbound
    from .journal import DeliveryJournal, SqlDeliveryJournal, delivery_journal_table
    from .registry import ENTRY_POINT_GROUP, registered_channels

#: Public name -> the module that defines it.
_EXPORTS = {
    "ChannelAdapter": "base",
    "Delivered": "base",
    "DeliveryError": "base",
    "FileRef": "base",
    "FileUnavailable": "base",
    "Inbound": "base",
    "merge_parts": "base",
    "ChannelEdge": "edge",
    "serve_outbound": "edge",
    "DeliveryJournal": "journal",
    "SqlDeliveryJournal": "journal",
    "delivery_journal_table": "journal",
    "ENTRY_POINT_GROUP": "registry",
    "registered_channels": "registry",
}

__all__ = [
    "ChannelAdapter",
    "ChannelEdge",
    "Delivered",
    "DeliveryError",
    "DeliveryJournal",
    "ENTRY_POINT_GROUP",
    "FileRef",
    "FileUnavailable",
    "Inbound",
    "SqlDeliveryJournal",
    "delivery_journal_table",
    "merge_parts",
    "registered_channels",
    "serve_outbound",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'priyom_kit.adapters' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
