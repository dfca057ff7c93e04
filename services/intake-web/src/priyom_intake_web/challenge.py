"""The bot check every submission passes: a pluggable :class:`Challenge`, proof of work by default.

Why proof of work. A CAPTCHA sends every visitor's browser to a third party (Google, Cloudflare) and asks
people to solve puzzles; a proof of work asks nothing of them, keeps the page free of external assets, and
makes each submission cost a flooding script about a second of CPU while costing this service one HMAC and
one SHA-256. It does not stop a determined attacker with many cores: the rate limits do that part.

The protocol (what the page's script and any API client do):

1. ``GET /api/v1/challenge`` answers ``{"kind": "pow", "token": "...", "difficulty": 16, "expires_in": 900}``.
   The token is ``<expires>.<salt>.<difficulty>.<hmac>``, signed with ``INTAKE_WEB_CHALLENGE_KEY``, so the
   service keeps nothing per issued challenge and any process sharing the key can check it.
2. The client finds a counter ``n`` such that ``sha256("<token>:<n>")`` starts with ``difficulty`` zero bits.
3. It sends ``challenge=<token>:<n>`` as a field of the form (JSON or multipart), as a CAPTCHA widget
   sends its response token.

A solution is accepted once: used tokens are remembered until they expire, in this process (several
processes sharing a key could each accept one solution once; the per-identifier limit bounds what that
buys). Another provider (hCaptcha, Turnstile, a self-hosted CAPTCHA) implements the same two methods:
``issue`` tells the page what to show, ``verify`` checks the field the page sends.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from typing import Any, Protocol

#: The form field carrying the solution (or a CAPTCHA provider's response token).
FIELD = "challenge"


class Challenge(Protocol):
    """What the submission route asks of a bot check; passed in by the app, so it can be swapped."""

    def issue(self) -> dict[str, Any]:
        """What ``GET /api/v1/challenge`` answers: ``kind`` plus what that kind's page script needs."""
        ...

    async def verify(self, solution: str | None) -> bool:
        """Whether ``solution`` (the :data:`FIELD` value, None when absent) passes; a pass is used up."""
        ...


class NoChallenge:
    """Every submission passes: for trusted callers only (a test stack, a form behind a login)."""

    def issue(self) -> dict[str, Any]:
        return {"kind": "none"}

    async def verify(self, solution: str | None) -> bool:
        return True


def leading_zero_bits(digest: bytes) -> int:
    """How many zero bits ``digest`` starts with."""
    value = int.from_bytes(digest, "big")
    return len(digest) * 8 - value.bit_length()


def solve(token: str, difficulty: int) -> str:
    """The solution a client sends for ``token`` (what the page's script computes; tests and API clients
    call this)."""
    n = 0
    while leading_zero_bits(hashlib.sha256(f"{token}:{n}".encode()).digest()) < difficulty:
        n += 1
    return f"{token}:{n}"


class ProofOfWork:
    """Stateless HMAC-signed challenges, solutions accepted once (see the module docstring)."""

    def __init__(self, key: bytes | None, difficulty: int, ttl_s: int,
                 clock: Callable[[], float] = time.time) -> None:
        self._key = key or secrets.token_bytes(32)
        self.difficulty = difficulty
        self.ttl_s = ttl_s
        self._clock = clock
        self._used: dict[str, float] = {}  # token -> expiry

    def issue(self) -> dict[str, Any]:
        payload = f"{int(self._clock()) + self.ttl_s}.{secrets.token_hex(8)}.{self.difficulty}"
        token = f"{payload}.{self._sign(payload)}"
        return {"kind": "pow", "token": token, "difficulty": self.difficulty, "expires_in": self.ttl_s}

    async def verify(self, solution: str | None) -> bool:
        token, _, counter = (solution or "").rpartition(":")
        parts = token.split(".")
        if len(parts) != 4 or not counter.isdigit() or len(counter) > 20:
            return False
        expires, _salt, difficulty, signature = parts
        payload = token.rsplit(".", 1)[0]
        if not hmac.compare_digest(self._sign(payload), signature):
            return False
        now = self._clock()
        if not (expires.isdigit() and difficulty.isdigit()) or int(expires) < now or int(difficulty) < self.difficulty:
            return False
        if leading_zero_bits(hashlib.sha256(solution.encode()).digest()) < int(difficulty):  # type: ignore[union-attr]
            return False
        self._forget_expired(now)
        if token in self._used:
            return False  # a replayed solution
        self._used[token] = int(expires)
        return True

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()[:32]

    def _forget_expired(self, now: float) -> None:
        # Insertion order is nearly expiry order (every token lives ttl_s): stop at the first one still alive;
        # a straggler goes on the next pass. The per-address limit bounds how many can pile up.
        while self._used:
            token, expiry = next(iter(self._used.items()))
            if expiry >= now:
                break
            del self._used[token]
