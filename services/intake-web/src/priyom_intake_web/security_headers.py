"""The form page's security headers: a Content-Security-Policy without ``unsafe-inline``, and friends.

The page is one self-contained file (no CDN, nothing external), so its one ``<script>`` and one ``<style>``
are allowed by their SHA-256 (computed once, when the page is rendered at start) instead of moving them to
other files: an injected script or style, which would have another hash, does not run. ``connect-src``
names this service, tickets (the page polls the ticket number there) and the knowledge base when one is
configured (the page asks it for articles while the customer types); ``frame-ancestors`` names the
sites allowed to show the form in a frame (``INTAKE_WEB_FRAME_ANCESTORS``), none by default.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

#: On every answer of the service, not only the page.
COMMON = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def _hashes(page: str, tag: str) -> list[str]:
    bodies = re.findall(rf"<{tag}>(.*?)</{tag}>", page, flags=re.DOTALL)
    return [f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'" for b in bodies]


def page_headers(page: str, tickets_url: str, frame_ancestors: list[str], kb_url: str = "") -> dict[str, str]:
    """The headers of the form page, for the page exactly as rendered."""
    tickets = urlsplit(tickets_url)
    ancestors = " ".join(frame_ancestors) or "'none'"
    kb = urlsplit(kb_url)
    connect = f"'self' {tickets.scheme}://{tickets.netloc}" + (f" {kb.scheme}://{kb.netloc}" if kb_url else "")
    policy = "; ".join([
        "default-src 'none'",
        "script-src " + " ".join(_hashes(page, "script")),
        "style-src " + " ".join(_hashes(page, "style")),
        f"connect-src {connect}",
        "img-src 'self' data:",
        "form-action 'self'",
        "base-uri 'none'",
        f"frame-ancestors {ancestors}",
    ])
    headers = {**COMMON, "Content-Security-Policy": policy, "Cache-Control": "no-cache"}
    if not frame_ancestors:
        headers["X-Frame-Options"] = "DENY"  # for browsers older than frame-ancestors
    return headers
