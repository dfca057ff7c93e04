"""Cut an operator's CustomResourceDefinition down to the one schema the manifests' tests validate against.

    python tests/deploy/crds/trim_crd.py CRD.yaml OUT.json [--version v1] [--opaque spec.override ...]

Keeps only ``spec.versions[name].schema.openAPIV3Schema`` of the CRD, without its ``description`` texts (most
of the upstream file's size), and replaces each ``--opaque`` path (properties we never set, such as the
RabbitMQ operator's StatefulSet override, which embeds a whole pod spec) by an object that accepts anything.
Everything else, types, enums, patterns, required fields and bounds, is kept as the operator publishes it, so
a manifest the trimmed schema accepts is one the API server accepts. README.md beside this file names the
source repository, path, commit and licence of each trimmed copy.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml


def without_descriptions(node: Any) -> Any:
    """The schema with every ``description`` text removed (a property *named* description is kept)."""
    if isinstance(node, dict):
        return {key: (without_descriptions(value) if key != "properties" else
                      {name: without_descriptions(sub) for name, sub in value.items()})
                for key, value in node.items() if key != "description"}
    if isinstance(node, list):
        return [without_descriptions(item) for item in node]
    return node


def make_opaque(schema: dict[str, Any], dotted: str) -> None:
    """Replace the property at ``dotted`` (``spec.override``) by an object the server keeps as given."""
    *parents, leaf = dotted.split(".")
    node = schema
    for name in parents:
        node = node["properties"][name]
    node["properties"][leaf] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def trimmed(crd: dict[str, Any], version: str, opaque: list[str]) -> dict[str, Any]:
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    schema = without_descriptions(served["schema"]["openAPIV3Schema"])
    for dotted in opaque:
        make_opaque(schema, dotted)
    return {"group": crd["spec"]["group"], "kind": crd["spec"]["names"]["kind"], "version": version,
            "openAPIV3Schema": schema}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("crd", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--version", default="v1")
    parser.add_argument("--opaque", action="append", default=[], help="dotted property path to accept as is")
    args = parser.parse_args()
    result = trimmed(yaml.safe_load(args.crd.read_text()), args.version, args.opaque)
    args.out.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
