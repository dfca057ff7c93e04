"""Access tokens for IMAP XOAUTH2 logins (Gmail, Microsoft 365 and any server that validates OAuth2 tokens).

A mailbox either carries a fixed access token (an operator or a sidecar keeps it fresh in the environment) or
a refresh token, exchanged at the provider's token endpoint (RFC 6749 §6) for an access token before a login.
The access token is kept until shortly before it expires, so reconnects do not hit the token endpoint each
time; a refused login forgets it, so the next attempt asks for a new one. Tokens never reach the logs. Every
mailbox asks through the service's one client for token endpoints (``app.py``), opened at start.
"""

from __future__ import annotations

import time

import httpx

from priyom_kit import HttpClient

from .settings import ImapMailbox

#: Renew this long before the provider's ``expires_in``: a login must not race the expiry.
EXPIRY_MARGIN_S = 60.0
#: A token answer larger than this is not a token answer.
MAX_TOKEN_RESPONSE_BYTES = 64 * 1024


class TokenError(Exception):
    """The token endpoint refused or answered nonsense; the reader backs off and tries again."""


class AccessTokens:
    """The current access token of one mailbox, asked of its provider through ``token_endpoints``."""

    def __init__(self, mailbox: ImapMailbox, token_endpoints: HttpClient) -> None:
        self.mailbox = mailbox
        self.token_endpoints = token_endpoints
        self._token: str | None = None
        self._valid_until = 0.0
        self._refresh_token = mailbox.oauth2_refresh_token.get_secret_value() if mailbox.oauth2_refresh_token else None

    async def get(self) -> str:
        if self.mailbox.oauth2_token is not None:
            return self.mailbox.oauth2_token.get_secret_value()
        if self._token is None or time.monotonic() >= self._valid_until:
            await self._refresh()
        assert self._token is not None
        return self._token

    def forget(self) -> None:
        """The server refused the token: fetch a new one before the next login."""
        self._token = None

    async def _refresh(self) -> None:
        box = self.mailbox
        form = {"grant_type": "refresh_token", "refresh_token": self._refresh_token or "",
                "client_id": box.oauth2_client_id or ""}
        if box.oauth2_client_secret is not None:
            form["client_secret"] = box.oauth2_client_secret.get_secret_value()
        if box.oauth2_scope:
            form["scope"] = box.oauth2_scope
        try:
            response = await self.token_endpoints.post(str(box.oauth2_token_url), data=form,
                                                       headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise TokenError(f"token endpoint unreachable: {type(exc).__name__}") from exc
        if response.status_code != 200 or len(response.content) > MAX_TOKEN_RESPONSE_BYTES:
            # The body may name the client; only the status goes into the error.
            raise TokenError(f"token endpoint answered {response.status_code}")
        try:
            answer = response.json()
            token = str(answer["access_token"])
            lifetime = float(answer.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError) as exc:
            raise TokenError("token endpoint answered without an access_token") from exc
        # Providers that rotate refresh tokens (Microsoft) send a new one; the old one may stop working.
        self._refresh_token = str(answer.get("refresh_token") or self._refresh_token)
        self._token = token
        self._valid_until = time.monotonic() + max(0.0, lifetime - EXPIRY_MARGIN_S)
