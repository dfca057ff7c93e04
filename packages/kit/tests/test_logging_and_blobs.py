from __future__ import annotations

import hashlib
import json

import pytest

from priyom_kit import mask_pii
from priyom_kit.blobs import FileBlobStore


@pytest.mark.parametrize(
    ("raw", "leaked"),
    [
        ("call from +7 (916) 123-45-67 now", "916"),
        ("mail ivan.petrov@example.ru please", "ivan.petrov"),
        ("8-916-123-45-67", "8-916"),
    ],
)
def test_personal_data_is_masked(raw: str, leaked: str) -> None:
    masked = mask_pii(raw)
    assert leaked not in masked
    assert "***" in masked


def test_ordinary_numbers_survive_masking() -> None:
    assert mask_pii("ticket 12345 took 250 ms") == "ticket 12345 took 250 ms"
    assert mask_pii("ticket 2026-000123 escalated") == "ticket 2026-000123 escalated"
    assert "916" not in mask_pii("8916-1234567")


async def test_blob_store_is_content_addressed(tmp_path) -> None:
    store = FileBlobStore(tmp_path)
    key = await store.put(b"scan.pdf bytes")
    assert key == hashlib.sha256(b"scan.pdf bytes").hexdigest()
    assert await store.put(b"scan.pdf bytes") == key
    assert await store.get(key) == b"scan.pdf bytes"
    with pytest.raises(KeyError):
        await store.get("../../etc/passwd")
    with pytest.raises(KeyError):
        await store.get("0" * 64)


async def test_a_deleted_blob_is_gone_and_deleting_again_is_harmless(tmp_path) -> None:
    store = FileBlobStore(tmp_path)
    key = await store.put(b"passport scan")
    assert await store.delete(key) is True
    with pytest.raises(KeyError):
        await store.get(key)
    assert await store.delete(key) is False and await store.delete("../../etc/passwd") is False


def test_http_client_request_lines_stay_out_of_info_logs(capfd) -> None:
    """httpx logs each request's URL at INFO; service-to-service URLs carry client ids."""
    import logging

    from priyom_kit.logging import configure_logging

    configure_logging("kit-test", "INFO", json=True)
    try:
        logging.getLogger("httpx").info("HTTP Request: GET http://identity/api/v1/clients/4f1c-card")
        logging.getLogger("httpx").warning("identity answered slowly")
        logging.getLogger("priyom.test").info("ordinary line")
        err = capfd.readouterr().err
        assert "4f1c-card" not in err
        assert "identity answered slowly" in err and "ordinary line" in err
    finally:
        logging.getLogger().handlers.clear()


def test_no_query_string_reaches_the_log(capfd) -> None:
    """uvicorn logs a WebSocket's path with its query at INFO: a token or a ticket in it must not be written."""
    import logging

    from priyom_kit.logging import configure_logging, get_logger

    configure_logging("kit-test", "INFO", json=True)
    try:
        logging.getLogger("uvicorn.error").info('%s - "WebSocket %s" [accepted]', "127.0.0.1:5000",
                                                "/ws/agent?extension=101&token=s3cr3t-long-lived-token")
        get_logger("priyom.test").info("called", url="https://x.example/cb?secret=hunter2hunter2&a=1")
        logging.getLogger("priyom.test").info("Как дела? Всё хорошо?")
        err = capfd.readouterr().err
        assert "s3cr3t-long-lived-token" not in err and "hunter2hunter2" not in err and "extension=101" not in err
        events = [json.loads(line)["event"] for line in err.splitlines() if line.startswith("{")]
        assert '"WebSocket /ws/agent?…" [accepted]' in events[0]
        assert events[2] == "Как дела? Всё хорошо?"  # a question mark in text is no query string
    finally:
        logging.getLogger().handlers.clear()
