"""The one way a service holds an HTTP client: opened when the service starts, closed when it stops.

Whatever a service asks over HTTP (another service's API, an OAuth2 token endpoint, a webhook peer) goes through
an :class:`HttpClient` built in its ``app.py``, listed in ``ServiceParts.on_start`` and ``on_stop``, and given
to the code that asks. One ``httpx.AsyncClient`` per peer keeps its connections alive between calls, and the
timeout, base URL and bearer token are set once, here, rather than at each call. Nothing connects before the
service starts, and nothing here logs (service URLs carry ids of clients and people).

An answer from another Priyom service is read into its model from ``priyom_contracts``
(``ClientCard.model_validate_json(response.content)``), never used as a raw dict.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import SecretStr

from .tracing import instrument_httpx

#: Most redirects followed where following is on (identity answers a merged card with one 308).
MAX_REDIRECTS = 3


class HttpClient:
    """``HttpClient(base_url=…, token=…, timeout_s=…)``; ``open`` at start, ``close`` at stop.

    ``token`` is sent as ``Authorization: Bearer …`` with every request (a request's own ``headers`` may
    replace it, as a service passing on its caller's token does). ``transport`` is for tests (an ASGI app).
    """

    def __init__(self, *, base_url: str = "", token: SecretStr | None = None, timeout_s: float = 5.0,
                 follow_redirects: bool = False, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s
        self.follow_redirects = follow_redirects
        self.transport = transport
        self._client: httpx.AsyncClient | None = None

    async def open(self) -> None:
        if self._client is None:
            headers = {"Authorization": f"Bearer {self.token.get_secret_value()}"} if self.token else {}
            self._client = httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=self.timeout_s,
                                             follow_redirects=self.follow_redirects, max_redirects=MAX_REDIRECTS,
                                             transport=self.transport)
            instrument_httpx(self._client)  # a span and a traceparent per request, when tracing is on

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError("the HTTP client is not open: the service has not started")
        return self._client

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        """``GET`` ``url`` (a path under ``base_url``, or absolute); raises ``httpx.HTTPError`` when the peer
        cannot be reached in time."""
        return await self.client.get(url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        """``POST`` to ``url``, as :meth:`get`."""
        return await self.client.post(url, **kwargs)
