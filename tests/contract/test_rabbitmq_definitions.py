"""deploy/rabbitmq/definitions.json declares exactly what the services declare at start (empty prefix).

A queue pre-created with other arguments would make every service fail at start with PRECONDITION_FAILED,
so the operator file is checked against the code that declares the same queues.
"""

from __future__ import annotations

import json
from pathlib import Path

from prometheus_client import CollectorRegistry

from priyom_contracts import journal_bindings
from priyom_kit import Bus, ServiceSettings

ROOT = Path(__file__).resolve().parents[2]


def test_definitions_match_the_topology() -> None:
    definitions = json.loads((ROOT / "deploy" / "rabbitmq" / "definitions.json").read_text(encoding="utf-8"))
    queues = {q["name"]: q["arguments"] for q in definitions["queues"]}
    bindings = {(b["source"], b["destination"], b["routing_key"]) for b in definitions["bindings"]}
    bus = Bus(ServiceSettings(PRIYOM_BUS_PREFIX=""), "contract-test", CollectorRegistry())
    topology = bus.topology
    for spec in topology.queues.values():
        declared = bus.rabbit_queue(spec)
        assert queues.get(spec.name) == {"x-queue-type": "quorum", **declared.arguments}, spec.name
        assert queues.get(spec.retry_name) == {"x-queue-type": "quorum", **bus.retry_queue(spec).arguments}, spec.retry_name
        for pattern in spec.bindings:
            assert (topology.exchange, spec.name, pattern) in bindings
    assert (topology.dead_letter_exchange, topology.dead_letter_queue, "#") in bindings
    # The journal keeps only messages without personal data: bound per type, never to everything.
    journal = {key for source, dest, key in bindings if dest == topology.journal_queue}
    assert journal == set(journal_bindings())
    assert queues[topology.journal_queue]["x-queue-type"] == "stream"
    # Per-process fan-outs are declared by each process at start; a durable copy here would collect them all.
    for fanout in topology.fanouts.values():
        assert fanout.purpose not in queues, fanout.purpose
        assert not any(dest == fanout.purpose for _, dest, _ in bindings), fanout.purpose
