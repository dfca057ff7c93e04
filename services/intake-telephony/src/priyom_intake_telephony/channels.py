"""Asterisk channel names: which extension a channel belongs to.

A ringing phone shows up in AMI as a channel name (``PJSIP/101-0000001a``, ``SIP/101-00000003``), a
``Local/101@from-queue-00000007;1`` leg of a queue or ring group, or a queue member's interface
(``PJSIP/101``, ``Local/101@from-queue/n``). All of them name the same extension, ``101``; trunks
(``PJSIP/provider-0000001b``) name something that is not an extension. Pure: no I/O.
"""

from __future__ import annotations

import re

#: ``Tech/resource``; the resource may carry a ``-<hex>`` sequence suffix and a ``;1``/``;2`` Local leg.
_CHANNEL = re.compile(r"^(?P<tech>[A-Za-z0-9_]+)/(?P<resource>.+)$")
_SEQUENCE = re.compile(r"-[0-9a-fA-F]{6,8}$")
#: The default shape of an agent's extension: 2 to 10 digits (trunks have names, callers have numbers).
DEFAULT_EXTENSION_PATTERN = r"[0-9]{2,10}"


def endpoint(channel: str | None) -> str | None:
    """The endpoint a channel or interface belongs to: ``PJSIP/101-0000001a`` -> ``101``,
    ``Local/101@from-queue-00000007;1`` -> ``101``, ``SIP/provider-00000003`` -> ``provider``."""
    if not channel:
        return None
    match = _CHANNEL.match(channel.strip())
    if match is None:
        return None
    resource = match["resource"]
    if match["tech"].lower() == "local":
        return resource.split("@", 1)[0] or None
    resource = resource.split(";", 1)[0].split("/", 1)[0]
    return _SEQUENCE.sub("", resource) or None


def is_local(channel: str | None) -> bool:
    """A ``Local/`` channel: a dialplan hop, followed to the device it dials rather than counted itself."""
    return bool(channel) and channel.lower().startswith("local/")  # type: ignore[union-attr]


class Extensions:
    """Decides which endpoints are agents' extensions (configurable: PBXes number them differently)."""

    def __init__(self, pattern: str = DEFAULT_EXTENSION_PATTERN) -> None:
        self.pattern = re.compile(pattern)

    def of_channel(self, channel: str | None) -> str | None:
        """The agent extension a channel rings, or None for a trunk or anything else."""
        name = endpoint(channel)
        return name if name is not None and self.is_extension(name) else None

    def is_extension(self, value: str | None) -> bool:
        return bool(value) and self.pattern.fullmatch(value or "") is not None
