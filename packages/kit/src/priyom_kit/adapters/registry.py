"""Channels are discovered, not listed: a package registers its adapter class under ``priyom.channels``.

```toml
[project.entry-points."priyom.channels"]
telegram = "priyom_intake_messenger.telegram.adapter:TelegramAdapter"
```
"""

from __future__ import annotations

from importlib.metadata import entry_points

from .base import ChannelAdapter

ENTRY_POINT_GROUP = "priyom.channels"


def registered_channels() -> dict[str, type[ChannelAdapter]]:
    """Every installed channel adapter class by channel name (the entry point's name)."""
    found: dict[str, type[ChannelAdapter]] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        cls = point.load()
        if not (isinstance(cls, type) and issubclass(cls, ChannelAdapter)):
            raise TypeError(f"{point.value} registered as channel {point.name!r} is not a ChannelAdapter")
        if cls.channel != point.name:
            raise TypeError(f"{point.value} declares channel {cls.channel!r} but is registered as {point.name!r}")
        found[point.name] = cls
    return found
