"""A cap on things happening at once (SMTP sessions, web-form submissions), refusing one more at once.

Refusing rather than queueing is the point: behind the cap each thing holds memory (a mail's DATA, an
upload's spooled files, a wait for the broker), so a crowd of slow clients must cost them their
connections, not the service its memory. The caller answers the refusal its protocol's way (421, 503).
"""

from __future__ import annotations


class Gate:
    """A counter with a ceiling and no waiting (one event loop, so no lock is needed)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0

    def enter(self) -> bool:
        """Count one more and say True, or say False when ``limit`` are already in."""
        if self.count >= self.limit:
            return False
        self.count += 1
        return True

    def leave(self) -> None:
        self.count -= 1
