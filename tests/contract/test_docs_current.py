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


def test_asyncapi_documents_the_identity_lookup_request_and_its_reply() -> None:
    """The caller pop-up's lookup runs outside faststream, so the exporter describes it by hand: the request
    queue, the reply to the requester's reply_to, and both messages' schemas from the contracts."""
    import json

    from priyom_contracts import ClientLookupReply, ClientLookupRequest

    document = json.loads((ROOT / "docs" / "asyncapi.json").read_text(encoding="utf-8"))
    channels, operations = document["channels"], document["operations"]
    messages, schemas = document["components"]["messages"], document["components"]["schemas"]

    assert channels["identity.lookup"]["address"] == "identity.lookup"
    assert channels["identity.lookup"]["bindings"]["amqp"]["queue"]["name"] == "identity.lookup"
    lookup = operations["identity.lookup"]
    assert lookup["action"] == "receive"
    assert lookup["messages"] == [{"$ref": "#/channels/identity.lookup/messages/Request"}]
    assert lookup["reply"]["address"]["location"] == "$message.header#/reply_to"
    assert lookup["reply"]["channel"] == {"$ref": "#/channels/identity.lookup%20%28reply%29"}
    assert channels["identity.lookup (reply)"]["messages"]["Reply"] == {
        "$ref": "#/components/messages/identity.lookup:Reply"}
    for name, model in (("Request", ClientLookupRequest), ("Reply", ClientLookupReply)):
        assert messages[f"identity.lookup:{name}"]["payload"] == {"$ref": f"#/components/schemas/{model.__name__}"}
        assert set(schemas[model.__name__]["properties"]) == set(model.model_fields), model.__name__
    assert schemas["ClientLookupRequest"]["properties"]["messenger"]["anyOf"][0] == {
        "$ref": "#/components/schemas/MessengerId"}
