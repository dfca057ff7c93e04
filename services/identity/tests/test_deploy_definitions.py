"""The operator's RabbitMQ definitions declare identity.lookup exactly as identity does at start.

A pre-created queue with other arguments would fail identity's start with PRECONDITION_FAILED.
"""

from __future__ import annotations

import json
from pathlib import Path

from priyom_contracts import Topology
from priyom_identity.lookup.responder import LOOKUP_QUEUE_ARGUMENTS

DEFINITIONS = Path(__file__).resolve().parents[3] / "deploy" / "rabbitmq" / "definitions.json"


def test_lookup_queue_in_the_definitions_matches_the_service() -> None:
    queues = {q["name"]: q for q in json.loads(DEFINITIONS.read_text(encoding="utf-8"))["queues"]}
    lookup = queues[Topology("").identity_lookup_queue]
    assert lookup["durable"] is True and lookup["auto_delete"] is False
    assert lookup["arguments"] == LOOKUP_QUEUE_ARGUMENTS
    assert lookup["arguments"]["x-queue-type"] == "quorum"  # survives the loss of a cluster node
