"""Reading rendered manifests the way the cluster will: which pods a selector picks, whether a NetworkPolicy lets
one pod reach another's port, and the environment a container really starts with.

The operators' own objects are modelled from their documentation, since their pods are not in the rendering:
pods of a RabbitmqCluster carry ``app.kubernetes.io/name: <its name>`` and the operator writes the Secret
``<name>-default-user`` (``connection_string``, ``username``, ``password``); pods of a CloudNativePG Cluster carry
``cnpg.io/cluster: <its name>`` and the operator writes ``<name>-app`` (the bootstrap owner's ``username`` and
``password``) and serves the primary as the Service ``<name>-rw``.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]


@dataclass(frozen=True, repr=False)
class Pod:
    """A pod some object in the rendering will create: who owns it, its labels and its spec."""

    owner: Obj
    labels: dict[str, str]
    spec: Obj

    def __repr__(self) -> str:
        return f"<pod of {self.owner['kind']} {self.owner['metadata']['name']}>"

    @property
    def ports(self) -> dict[str, int]:
        """Named container ports (``http`` -> 8000), for NetworkPolicy and Service ports given by name."""
        return {p["name"]: p["containerPort"] for c in self.spec.get("containers", []) for p in c.get("ports", [])
                if "name" in p}


def named(objects: list[Obj], kind: str) -> dict[str, Obj]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def pods(objects: list[Obj]) -> list[Pod]:
    """Every pod the rendering brings: from Deployments and Jobs, and those the two operators create."""
    found = [Pod(obj, obj["spec"]["template"]["metadata"].get("labels", {}), obj["spec"]["template"]["spec"])
             for obj in objects if obj["kind"] in ("Deployment", "Job")]
    for name, cluster in named(objects, "RabbitmqCluster").items():
        found.append(Pod(cluster, {"app.kubernetes.io/name": name, "app.kubernetes.io/component": "rabbitmq"},
                         {"containers": [{"ports": [{"name": "amqp", "containerPort": 5672}]}]}))
    for name, cluster in named(objects, "Cluster").items():
        found.append(Pod(cluster, {"cnpg.io/cluster": name, "cnpg.io/podRole": "instance"},
                         {"containers": [{"ports": [{"name": "postgresql", "containerPort": 5432}]}]}))
    return found


def selects(selector: Obj | None, labels: dict[str, str]) -> bool:
    """Whether a LabelSelector (matchLabels and matchExpressions) picks a pod with these labels."""
    if selector is None:
        return False
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        held = {"In": labels.get(key) in values, "NotIn": labels.get(key) not in values,
                "Exists": key in labels, "DoesNotExist": key not in labels}[operator]
        if not held:
            return False
    return True


def _port_allowed(rule: Obj, port: int, target: Pod) -> bool:
    listed = rule.get("ports")
    if not listed:
        return True
    return any(entry.get("port") in (port, None) or target.ports.get(entry.get("port")) == port for entry in listed)


def _peer_is(peers: list[Obj] | None, pod: Pod) -> bool:
    """Whether a rule's from/to list names this pod of the same namespace (no namespaceSelector, no ipBlock)."""
    if peers is None:
        return True
    return any("namespaceSelector" not in peer and "ipBlock" not in peer and selects(peer.get("podSelector"), pod.labels)
               for peer in peers)


def allows(objects: list[Obj], source: Pod, target: Pod, port: int) -> bool:
    """Whether the NetworkPolicies let ``source`` open a connection to ``target`` on ``port``: allowed by an
    egress rule of a policy selecting the source and by an ingress rule of one selecting the target (a side
    no policy selects for that direction is open, as in Kubernetes)."""
    policies = list(named(objects, "NetworkPolicy").values())

    def side(pod: Pod, direction: str, key: str, peer: Pod, port_pod: Pod) -> bool:
        mine = [p for p in policies if direction in p["spec"].get("policyTypes", ["Ingress"])
                and selects(p["spec"]["podSelector"], pod.labels)]
        return not mine or any(_peer_is(rule.get(key), peer) and _port_allowed(rule, port, port_pod)
                               for p in mine for rule in p["spec"].get(direction.lower(), []))

    return side(source, "Egress", "to", target, target) and side(target, "Ingress", "from", source, target)


def operator_secrets(objects: list[Obj]) -> dict[str, dict[str, str]]:
    """The Secrets the two operators will write, with stand-in values of the shape they write."""
    secrets = {}
    for name in named(objects, "RabbitmqCluster"):
        secrets[f"{name}-default-user"] = {
            "username": "generated-user", "password": "generated-password",
            "connection_string": f"amqp://generated-user:generated-password@{name}.priyom.svc:5672/"}
    for name, cluster in named(objects, "Cluster").items():
        owner = cluster["spec"]["bootstrap"]["initdb"]["owner"]
        secrets[f"{name}-app"] = {"username": owner, "password": "generated-password"}
    return secrets


def secret_data(objects: list[Obj]) -> dict[str, dict[str, str]]:
    """Every Secret's data by name, the rendered ones decoded and the operators' stood in for."""
    rendered = {name: {key: base64.b64decode(value).decode() for key, value in obj.get("data", {}).items()}
                for name, obj in named(objects, "Secret").items()}
    return {**operator_secrets(objects), **rendered}


def environment(container: Obj, objects: list[Obj]) -> dict[str, str]:
    """The environment the container starts with: envFrom, then env, with ``$(NAME)`` expanded as the kubelet
    does. A reference to a ConfigMap, Secret or key that does not exist raises KeyError naming it."""
    maps = {name: obj.get("data", {}) for name, obj in named(objects, "ConfigMap").items()}
    secrets = secret_data(objects)
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(maps[source["configMapRef"]["name"]])
        else:
            env.update(secrets[source["secretRef"]["name"]])
    for entry in container.get("env", []):
        if "value" in entry:
            env[entry["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env.get(m[1], m[0]), entry["value"])
        elif "secretKeyRef" in entry["valueFrom"]:
            ref = entry["valueFrom"]["secretKeyRef"]
            env[entry["name"]] = secrets[ref["name"]][ref["key"]]
        else:
            ref = entry["valueFrom"]["configMapKeyRef"]
            env[entry["name"]] = maps[ref["name"]][ref["key"]]
    return env
