"""Agents confirm or reject claimed identifiers through the real app (database and bus started)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from priyom_identity.handlers import identify_recorded
from priyom_identity.policy import MatchPolicy
from priyom_identity.tables import inbox
from priyom_kit import Principal, Role, ServiceParts
from priyom_kit.db import Database, Inbox

from .conftest import contact_event, unique_email

AGENT = {"Authorization": "Bearer agent-token"}
SERVICE = {"Authorization": "Bearer service-token"}


@pytest.fixture
def parts(parts: ServiceParts) -> ServiceParts:
    """Identity with an agent and a service credential, which may edit cards but not vouch for a claim."""

    async def authenticate(token: str) -> Principal | None:
        return {"agent-token": Principal("agent-1", frozenset({Role.AGENT})),
                "service-token": Principal("tickets", frozenset({Role.SERVICE}))}.get(token)

    parts.authenticator = authenticate
    return parts


async def test_agent_confirms_and_rejects_claims(client: httpx.AsyncClient, database: Database) -> None:
    email, phone = unique_email(), "+7 916 781-00-01"
    # A web form's contact, as intake-web publishes it: both identifiers are claims.
    await identify_recorded(contact_event(email=email, phone=phone, channel="web"), sessions=database.sessions,
                            inbox=Inbox(inbox, "test"), policy=MatchPolicy(region="RU"))
    found = await client.get("/api/v1/clients/lookup", params={"email": email}, headers=AGENT)
    assert found.status_code == 200, found.text
    card = found.json()
    claims = {i["kind"]: i for i in card["identifiers"]}
    assert claims["phone"]["verified"] is False and claims["email"]["verified"] is False
    base = f"/api/v1/clients/{card['id']}/identifiers"

    refused = await client.post(f"{base}/{claims['phone']['id']}/confirm", headers=SERVICE)
    assert refused.status_code == 403, "a service cannot vouch for a claim"
    assert (await client.post(f"{base}/{claims['phone']['id']}/confirm")).status_code == 401

    confirmed = await client.post(f"{base}/{claims['phone']['id']}/confirm", headers=AGENT)
    assert confirmed.status_code == 200, confirmed.text
    phone_view = next(i for i in confirmed.json()["identifiers"] if i["kind"] == "phone")
    assert (phone_view["verified"], phone_view["verified_by"]) == (True, "agent-1")
    again = await client.post(f"{base}/{claims['phone']['id']}/reject", headers=AGENT)
    assert again.status_code == 409, "a verified identifier is not a claim to reject"

    rejected = await client.post(f"{base}/{claims['email']['id']}/reject", headers=AGENT)
    assert rejected.status_code == 200, rejected.text
    assert [i["kind"] for i in rejected.json()["identifiers"]] == ["phone"]
    assert (await client.post(f"{base}/{claims['email']['id']}/confirm", headers=AGENT)).status_code == 404
    other_card = await client.post(f"/api/v1/clients/{uuid.uuid4()}/identifiers/{claims['phone']['id']}/confirm",
                                   headers=AGENT)
    assert other_card.status_code == 404
    assert (await client.post(f"{base}/{claims['phone']['id']}/approve", headers=AGENT)).status_code == 422
