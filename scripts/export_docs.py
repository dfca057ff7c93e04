"""Write the committed bus documentation: ``docs/asyncapi.json`` and one JSON Schema per message type.

Run by ``make docs``; ``tests/contract`` regenerates both and fails when the committed copies are stale, so a
contract change is always visible in review as a diff of these files.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
from pathlib import Path
from urllib.parse import quote

from faststream.specification import AsyncAPI

from priyom_contracts import (
    EVENT_TYPES,
    ClientLookupReply,
    ClientLookupRequest,
    Contract,
    FanoutSpec,
    Topology,
)
from priyom_identity.lookup.responder import LOOKUP_REQUEST_TTL_MS
from priyom_kit.consumers import QueueConsumer

ROOT = Path(__file__).resolve().parents[1]
#: Every service whose bus endpoints are documented, in flow order.
SERVICES = (
    "priyom_intake_web",
    "priyom_intake_email",
    "priyom_intake_telephony",
    "priyom_intake_messenger",
    "priyom_identity",
    "priyom_router",
    "priyom_tickets",
)


def asyncapi_document() -> dict:
    """One AsyncAPI 3.0 document covering every service's subscribers and publishers."""
    buses = [importlib.import_module(f"{name}.app").build().bus for name in SERVICES]
    brokers = [bus.broker for bus in buses]
    spec = AsyncAPI(brokers[0], title="Priyom bus", version="1", description=(
        "Every message Priyom's services publish and consume on RabbitMQ. Routing keys are "
        "<type>.v<major>.<channel>; failed messages end in priyom.dead-letters with x-error."))
    for broker in brokers[1:]:
        spec.add_broker(broker)
    document = json.loads(spec.to_specification().to_json())
    add_identity_lookup(document)
    for bus in buses:
        add_consumers(document, bus.consumers.registered())
        add_fanouts(document, bus.fanouts.registered())
    return document


def add_consumers(document: dict, consumers: dict[str, QueueConsumer]) -> None:
    """Document the topology queues a service consumes (``priyom_kit.consumers``: outside faststream, so
    faststream cannot describe them): one channel and one receive operation each, with acknowledgements, its
    payload the handlers' types (the dead letters' keeper's: bytes as they failed), its description their
    docstrings' first paragraphs."""
    messages = document["components"].setdefault("messages", {})
    server = [{"$ref": "#/servers/development"}]
    for consumer in consumers.values():
        name, spec = consumer.spec.name, consumer.spec
        message = f"{name}:SubscribeMessage"
        payloads = [{"$ref": _component_schema(document, route.event_type) if route.event_type else
                     _undecoded_schema(document, name)} for route in consumer.routes.values()]
        messages[message] = {"title": message, "payload": payloads[0] if len(payloads) == 1 else {"oneOf": payloads},
                             "correlationId": {"location": "$message.header#/correlation_id"}}
        said = {type_name: _first_paragraph(route.handler.__doc__) for type_name, route in consumer.routes.items()}
        channel: dict = {
            "address": spec.bindings[0], "servers": server,
            "bindings": {"amqp": {"bindingVersion": "0.3.0", "is": "queue", "queue": {
                "name": name, "durable": True, "exclusive": False, "autoDelete": False, "vhost": "/"}}},
            "messages": {"SubscribeMessage": {"$ref": f"#/components/messages/{_escape(message)}"}},
        }
        if any(said.values()):
            channel["description"] = "\n".join(f"{type_name}: {text}" if len(said) > 1 else text
                                               for type_name, text in said.items() if text)
        document["channels"][name] = channel
        document["operations"][name] = {
            "action": "receive", "channel": {"$ref": f"#/channels/{_escape(name)}"},
            "messages": [{"$ref": f"#/channels/{_escape(name)}/messages/SubscribeMessage"}],
            "bindings": {"amqp": {"bindingVersion": "0.3.0", "ack": True, "cc": list(spec.bindings)}},
        }


def _undecoded_schema(document: dict, queue: str) -> str:
    """The payload of a queue whose body is handed over as it arrived (the dead letters': any bytes)."""
    name = f"{queue}:Message:Payload"
    document["components"].setdefault("schemas", {})[name] = {"title": name, "type": "string", "format": "binary"}
    return f"#/components/schemas/{_escape(name)}"


def _first_paragraph(text: str | None) -> str:
    return " ".join(inspect.cleandoc(text or "").split("\n\n")[0].split())


def add_fanouts(document: dict, fanouts: dict[str, tuple[FanoutSpec, type[Contract]]]) -> None:
    """Document the per-process fan-outs a service consumes (``priyom_kit.fanouts``: outside faststream, so
    faststream cannot describe them): one channel and one receive operation each, without acknowledgements."""
    messages = document["components"].setdefault("messages", {})
    server = [{"$ref": "#/servers/development"}]
    for spec, event_type in fanouts.values():
        name = f"{spec.purpose} (per process)"
        message = f"{name}:SubscribeMessage"
        messages[message] = {"title": message, "payload": {"$ref": _component_schema(document, event_type)},
                             "correlationId": {"location": "$message.header#/correlation_id"}}
        document["channels"][name] = {
            "address": spec.bindings[0], "servers": server,
            "description": (f"Every process's own queue (exclusive, auto-deleted, named <purpose>.<service>."
                            f"<random>): messages expire after {spec.ttl_ms} ms, the oldest dropped beyond "
                            f"{spec.max_length}; consumed without acknowledgements, never retried."),
            "bindings": {"amqp": {"bindingVersion": "0.3.0", "is": "queue", "queue": {
                "name": "", "durable": False, "exclusive": True, "autoDelete": True, "vhost": "/"}}},
            "messages": {"SubscribeMessage": {"$ref": f"#/components/messages/{_escape(message)}"}},
        }
        document["operations"][name] = {
            "action": "receive", "channel": {"$ref": f"#/channels/{_escape(name)}"},
            "messages": [{"$ref": f"#/channels/{_escape(name)}/messages/SubscribeMessage"}],
            "bindings": {"amqp": {"bindingVersion": "0.3.0", "ack": False, "cc": list(spec.bindings)}},
        }


def add_identity_lookup(document: dict) -> None:
    """Document ``identity.lookup``, the request/reply the caller pop-up waits on.

    Identity answers it on a consumer of its own, outside faststream (``lookup/responder.py``: a ringing
    phone cannot wait for the full consumer pipeline), so faststream cannot describe it: it is written here,
    from the same contracts and queue name, as an AsyncAPI 3 operation with a ``reply``.
    """
    queue = Topology().identity_lookup_queue
    reply_channel = f"{queue} (reply)"
    messages = document["components"].setdefault("messages", {})
    for name, model in (("Request", ClientLookupRequest), ("Reply", ClientLookupReply)):
        messages[f"{queue}:{name}"] = {
            "title": f"{queue}:{name}", "payload": {"$ref": _component_schema(document, model)},
            # The requester matches the reply to its question by the AMQP correlation id it chose.
            "correlationId": {"location": "$message.header#/correlation_id"},
        }
    server = [{"$ref": "#/servers/development"}]
    document["channels"][queue] = {
        "address": queue, "servers": server,
        "description": (f"Ask identity for a caller's card by phone, email or messenger id. Published to the "
                        f"default exchange with reply_to and correlation_id; the queue drops a request after "
                        f"{LOOKUP_REQUEST_TTL_MS} ms (x-message-ttl): the call it was for has stopped ringing. A quorum "
                        f"queue, so it answers while one node of a cluster is down."),
        "bindings": {"amqp": {"bindingVersion": "0.3.0", "is": "queue", "queue": {
            "name": queue, "durable": True, "exclusive": False, "autoDelete": False, "vhost": "/"}}},
        "messages": {"Request": {"$ref": f"#/components/messages/{_escape(queue)}:Request"}},
    }
    document["channels"][reply_channel] = {
        "address": None, "servers": server,  # null: the requester's reply_to, known only at run time
        "description": ("The requester's reply_to (RabbitMQ direct reply-to, amq.rabbitmq.reply-to), through "
                        "the default exchange. At most once, never persisted: a late answer is useless."),
        "messages": {"Reply": {"$ref": f"#/components/messages/{_escape(queue)}:Reply"}},
    }
    document["operations"][queue] = {
        "action": "receive", "channel": {"$ref": f"#/channels/{_escape(queue)}"},
        "messages": [{"$ref": f"#/channels/{_escape(queue)}/messages/Request"}],
        "bindings": {"amqp": {"bindingVersion": "0.3.0", "ack": True}},
        "reply": {
            "address": {"location": "$message.header#/reply_to",
                        "description": "The AMQP reply_to property of the request"},
            "channel": {"$ref": f"#/channels/{_escape(reply_channel)}"},
            "messages": [{"$ref": f"#/channels/{_escape(reply_channel)}/messages/Reply"}],
        },
    }


def _component_schema(document: dict, model: type[Contract]) -> str:
    """Put ``model``'s JSON Schema (and those it refers to) among the document's schemas; its reference."""
    schemas = document["components"].setdefault("schemas", {})
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, nested in schema.pop("$defs", {}).items():
        schemas.setdefault(name, nested)
    schemas[model.__name__] = schema
    return f"#/components/schemas/{model.__name__}"


def _escape(name: str) -> str:
    """A channel or message name inside a JSON reference, escaped as faststream writes its own."""
    return quote(name, safe=":")


def message_schemas() -> dict[str, dict]:
    return {event.type_name(): event.model_json_schema() for event in EVENT_TYPES}


def render() -> dict[Path, str]:
    """Relative path -> exact file content of every generated document."""
    # Sorted keys: faststream keeps subscribers in a WeakSet, so its channel order changes between runs.
    files = {Path("docs/asyncapi.json"): json.dumps(asyncapi_document(), indent=2, ensure_ascii=False,
                                                    sort_keys=True) + "\n"}
    for name, schema in message_schemas().items():
        files[Path(f"docs/schemas/{name}.json")] = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    return files


def main() -> int:
    for path, content in render().items():
        target = ROOT / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
