"""Write the committed bus documentation: ``docs/asyncapi.json`` and one JSON Schema per message type.

Run by ``make docs``; ``tests/contract`` regenerates both and fails when the committed copies are stale, so a
contract change is always visible in review as a diff of these files.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

from faststream.specification import AsyncAPI

from priyom_contracts import EVENT_TYPES

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
    brokers = [importlib.import_module(f"{name}.app").build().bus.broker for name in SERVICES]
    spec = AsyncAPI(brokers[0], title="Priyom bus", version="1", description=(
        "Every message Priyom's services publish and consume on RabbitMQ. Routing keys are "
        "<type>.v<major>.<channel>; failed messages end in priyom.dead-letters with x-error."))
    for broker in brokers[1:]:
        spec.add_broker(broker)
    return json.loads(spec.to_specification().to_json())


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
