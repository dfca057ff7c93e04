"""Which pages may POST the form: its own origin and the configured ones, never another website's.

A browser sends ``Origin`` with every POST (fetch and plain form alike), so a visitor of ``evil.example``
whose browser is made to post here carries ``Origin: https://evil.example`` and is refused: without this
check any website could flood the form from its visitors' browsers, past every per-address limit. The form's
own origin is recognised by its host matching the request's ``Host`` (the scheme is left out: behind a TLS
proxy the service sees http), so ``make up`` works at any address with nothing configured. A request with
no ``Origin`` is not from a web page (curl, a server-side integration) unless ``Sec-Fetch-Site`` says it
is, and is let through to the other checks. ``Origin: null`` (a sandboxed frame, a file) is refused.

A configured origin (a company's own site carrying a copy of the form) is also answered with CORS headers,
so its page's script may read the answer (the contact id, a 422's messages); no other origin gets them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit


def _origin(value: str) -> str:
    url = urlsplit(value.strip().lower())
    return f"{url.scheme}://{url.netloc}"


class OriginPolicy:
    """``allows(headers)``: whether the request may come from the page that sent it."""

    def __init__(self, allowed: Iterable[str]) -> None:
        self.allowed = frozenset(_origin(origin) for origin in allowed)

    def allows(self, headers: Mapping[str, str]) -> bool:
        origin = headers.get("origin")
        if origin is None:
            return headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")
        if origin.strip().lower() == "null":
            return False
        if _origin(origin) in self.allowed:
            return True
        return urlsplit(origin.strip().lower()).netloc == headers.get("host", "").strip().lower()

    def cors(self, headers: Mapping[str, str]) -> dict[str, str]:
        """CORS headers for an answer to a configured origin's page; none for anyone else."""
        origin = headers.get("origin")
        if origin is None or _origin(origin) not in self.allowed:
            return {}
        return {"Access-Control-Allow-Origin": origin.strip(), "Vary": "Origin"}

    def preflight(self, headers: Mapping[str, str]) -> dict[str, str]:
        """The answer to a configured origin's preflight (``OPTIONS``): what it may send."""
        allowed = self.cors(headers)
        if not allowed:
            return {}
        return {**allowed, "Access-Control-Allow-Methods": "GET, POST",
                "Access-Control-Allow-Headers": "Content-Type, Idempotency-Key, Accept",
                "Access-Control-Max-Age": "600"}
