"""The committed bus documentation matches the code: a contract change always shows up as a diff."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_exporter():
    spec = importlib.util.spec_from_file_location("export_docs", ROOT / "scripts" / "export_docs.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_asyncapi_and_schemas_are_current() -> None:
    stale = []
    for path, content in load_exporter().render().items():
        committed = ROOT / path
        if not committed.exists() or committed.read_text(encoding="utf-8") != content:
            stale.append(str(path))
    assert not stale, f"run `make docs` and commit: stale {stale}"


def test_asyncapi_documents_every_consumer_queue() -> None:
    import json

    document = json.loads((ROOT / "docs" / "asyncapi.json").read_text(encoding="utf-8"))
    channels = document["channels"]
    for queue in ("identity.contacts", "router.contacts", "tickets.contacts"):
        assert queue in channels, f"{queue} is not documented"
