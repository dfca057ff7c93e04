"""The guards' own rules without HTTP: challenge expiry and keys, origins, and rate-limit counters shared
through a real Redis (the trade-off the settings document)."""

from __future__ import annotations

import uuid

import pytest

from priyom_intake_web.challenge import ProofOfWork, solve
from priyom_intake_web.origins import OriginPolicy
from priyom_intake_web.rate_limits import SubmissionLimits, identifier_keys
from priyom_kit.rate_windows import open_storage

REDIS = "redis://127.0.0.1:6379/0"


async def test_a_challenge_expires_and_is_bound_to_its_key() -> None:
    now = [1_800_000_000.0]
    issuer = ProofOfWork(b"k" * 32, difficulty=6, ttl_s=60, clock=lambda: now[0])
    late = solve(issuer.issue()["token"], 6)
    now[0] += 61
    assert not await issuer.verify(late)

    other_key = ProofOfWork(b"o" * 32, difficulty=6, ttl_s=60, clock=lambda: now[0])
    assert not await other_key.verify(solve(issuer.issue()["token"], 6))
    shared = ProofOfWork(b"k" * 32, difficulty=6, ttl_s=60, clock=lambda: now[0])
    assert await shared.verify(solve(issuer.issue()["token"], 6))  # processes sharing the key agree


def test_origins() -> None:
    policy = OriginPolicy(["https://www.partner.example/"])
    host = {"host": "support.example.ru"}
    assert policy.allows({**host, "origin": "https://support.example.ru"})
    assert policy.allows({**host, "origin": "https://WWW.partner.example"})
    assert policy.allows(host)
    assert policy.allows({**host, "sec-fetch-site": "same-origin"})
    assert not policy.allows({**host, "origin": "https://support.example.ru.evil.example"})
    assert not policy.allows({**host, "origin": "http://partner.example"})
    assert not policy.allows({**host, "sec-fetch-site": "same-site"})


def test_identifier_keys_hold_no_personal_data() -> None:
    keys = identifier_keys("Ivan@Example.ru", "+7 (912) 345-67-89")
    assert keys == identifier_keys("ivan@example.ru ", "79123456789")
    assert not any("ivan" in key or "912" in key for key in keys)


async def test_redis_counters_are_shared_by_every_process() -> None:
    try:
        import redis.asyncio

        await redis.asyncio.from_url(REDIS).ping()
    except Exception as exc:  # noqa: BLE001 - no Redis here: the memory default is tested through HTTP
        pytest.skip(f"no Redis at {REDIS}: {type(exc).__name__}")
    address = f"webform-test-{uuid.uuid4()}"
    first = SubmissionLimits(open_storage(REDIS), "2/minute", "1/hour")
    second = SubmissionLimits(open_storage(REDIS), "2/minute", "1/hour")  # another process
    assert await first.check_address(address) is None
    assert await second.check_address(address) is None
    refused = await first.check_address(address)  # the key is this test's own and expires in a minute
    assert refused is not None and 1 <= refused.retry_after_s <= 60
