"""The adapter kit: what a new channel is written against (see ``docs/adapters.md``).

``base``     the :class:`ChannelAdapter` a channel implements (pure: normalise, fetch, deliver)
``edge``     :class:`ChannelEdge`, the bus side every channel shares (blobs, confirmed publish, delivery reports)
``registry`` channels registered under the ``priyom.channels`` entry-point group
``testing``  :class:`AdapterContract`, the test suite every adapter's test file subclasses
"""

from .base import (
    CONTACT_ID_NAMESPACE,
    ChannelAdapter,
    Delivered,
    DeliveryError,
    FileRef,
    FileUnavailable,
    Inbound,
    merge_parts,
)
from .edge import ChannelEdge, serve_outbound
from .registry import ENTRY_POINT_GROUP, registered_channels

__all__ = [
    "CONTACT_ID_NAMESPACE",
    "ENTRY_POINT_GROUP",
    "ChannelAdapter",
    "ChannelEdge",
    "Delivered",
    "DeliveryError",
    "FileRef",
    "FileUnavailable",
    "Inbound",
    "merge_parts",
    "registered_channels",
    "serve_outbound",
]
