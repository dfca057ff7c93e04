"""Every object deploy/k8s renders to is valid, offline: the Kubernetes kinds against the API's own JSON
schemas (kubernetes-validate bundles them, per release), the operators' kinds against their CRDs' schemas
(trimmed copies in crds/, README.md there says from where).

Validation is strict: a field the schema does not know is an error, as a typo in a manifest would be silently
dropped by the API server (or refused, with `kubectl apply --validate=strict`).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest

#: The oldest Kubernetes release the manifests support (matchLabelKeys in topology spreads, CNPG's support
#: window) and the newest the bundled schemas know.
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
CRDS = Path(__file__).parent / "crds"
CRD_FILES = ("rabbitmqclusters.rabbitmq.com.json", "clusters.postgresql.cnpg.io.json",
             "databases.postgresql.cnpg.io.json")


def closed(schema: Any) -> Any:
    """The CRD schema with unknown fields refused: an object that lists its properties and does not say
    x-kubernetes-preserve-unknown-fields accepts no others (the API server prunes them, losing the setting)."""
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: closed(value) if key != "properties" else {k: closed(v) for k, v in value.items()}
              for key, value in schema.items()}
    if "properties" in result and "additionalProperties" not in result \
            and not result.get("x-kubernetes-preserve-unknown-fields"):
        result["additionalProperties"] = False
    return result


@cache
def crd_validators() -> dict[tuple[str, str], jsonschema.protocols.Validator]:
    """(apiVersion, kind) -> a validator of that custom resource's trimmed, closed schema."""
    validators = {}
    for name in CRD_FILES:
        crd = json.loads((CRDS / name).read_text(encoding="utf-8"))
        schema = closed(crd["openAPIV3Schema"])
        # metadata is the API server's own ObjectMeta, not described in the CRD.
        schema["properties"]["metadata"] = {"type": "object"}
        validators[(f"{crd['group']}/{crd['version']}", crd["kind"])] = jsonschema.Draft7Validator(schema)
    return validators


def label(obj: dict[str, Any]) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def test_the_operators_resources_are_there(objects: list[dict[str, Any]]) -> None:
    kinds = {(obj["apiVersion"], obj["kind"]) for obj in objects}
    assert set(crd_validators()) <= kinds
    rabbit = next(obj for obj in objects if obj["kind"] == "RabbitmqCluster")
    assert rabbit["spec"]["replicas"] == 3


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_kubernetes_object_matches_the_api_schema(objects: list[dict[str, Any]], version: str) -> None:
    errors = []
    for obj in objects:
        if (obj["apiVersion"], obj["kind"]) in crd_validators():
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as exc:
            errors.append(f"{label(obj)}: {str(exc).splitlines()[0]}")  # the rest prints the whole schema
    assert not errors, "\n".join(errors)


def test_every_custom_resource_matches_its_crd(objects: list[dict[str, Any]]) -> None:
    errors = []
    for obj in objects:
        validator = crd_validators().get((obj["apiVersion"], obj["kind"]))
        if validator is not None:
            errors += [f"{label(obj)} {'.'.join(map(str, e.absolute_path))}: {e.message}"
                       for e in validator.iter_errors(obj)]
    assert not errors, "\n".join(errors)


def test_the_crd_check_refuses_what_the_operator_would() -> None:
    """The CRD schemas are not a formality: an unknown field, a wrong type and a missing requirement fail."""
    validator = crd_validators()[("postgresql.cnpg.io/v1", "Cluster")]
    good = {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "x"},
            "spec": {"instances": 1, "storage": {"size": "1Gi"}}}
    assert not list(validator.iter_errors(good))
    assert list(validator.iter_errors({**good, "spec": {**good["spec"], "instanecs": 3}}))
    assert list(validator.iter_errors({**good, "spec": {**good["spec"], "instances": "three"}}))
    database = crd_validators()[("postgresql.cnpg.io/v1", "Database")]
    assert list(database.iter_errors({"apiVersion": "postgresql.cnpg.io/v1", "kind": "Database",
                                      "metadata": {"name": "x"}, "spec": {"name": "x"}}))
