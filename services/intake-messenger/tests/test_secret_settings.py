"""Finding 4 of the security issue, as the attack: ``INTAKE_MESSENGER_WEBHOOK_SECRET=`` (an empty value, as a
compose file passes an unset variable) used to open the signed webhook with an empty HMAC key, so anyone
could sign a message with ``hmac(b"", body)``. Empty now means the channel is off; a short key refuses to
start."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from priyom_intake_messenger.app import build
from priyom_intake_messenger.settings import IntakeMessengerSettings
from priyom_kit import build_app
from priyom_testing.apps import started

from .conftest import migrated_sqlite

MESSAGE = {"message_id": "forged-1", "sent_at": "2026-11-25T09:15:00+03:00",
           "sender": {"id": "79160000000", "name": "Злоумышленник"}, "conversation_id": "c", "text": "hi"}


async def test_empty_webhook_secret_turns_the_channel_off(monkeypatch: pytest.MonkeyPatch, cleanup_bus: str,
                                                          amqp_url: str, tmp_path: Path) -> None:
    monkeypatch.setenv("INTAKE_MESSENGER_WEBHOOK_SECRET", "")
    settings = IntakeMessengerSettings(AMQP_URL=amqp_url, PRIYOM_BUS_PREFIX=cleanup_bus,
                                       database_url=await migrated_sqlite(tmp_path), PRIYOM_BLOB_DIR=tmp_path / "b")
    assert settings.webhook_secret is None
    app = build_app(build(settings))
    body = json.dumps(MESSAGE).encode()
    forged = "sha256=" + hmac.new(b"", body, hashlib.sha256).hexdigest()  # signed with the empty key
    async with started(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://messenger.test") as client:
        response = await client.post("/webhook/messages", content=body,
                                     headers={"X-Priyom-Signature": forged, "Content-Type": "application/json"})
    assert response.status_code == 404  # no such route: the channel is off


@pytest.mark.parametrize("variable", ["INTAKE_MESSENGER_WEBHOOK_SECRET", "PRIYOM_ADMIN_TOKEN"])
def test_a_short_secret_refuses_to_start(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "s3cret-15-chars")
    with pytest.raises(ValidationError) as refused:
        IntakeMessengerSettings()
    assert "at least 16 characters" in str(refused.value)
    assert "s3cret-15-chars" not in str(refused.value)  # the error never shows the secret
