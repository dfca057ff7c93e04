"""The manifests agree with the code: each service's pods start its real entry point with an environment its
own settings class accepts, answer the probes they are given, reach what they call through the
NetworkPolicies, and have the budgets, autoscalers and locks a production deployment needs.

Schema validity is test_k8s_schemas.py's; this file is about references between objects and to the code,
which no schema sees: a misspelt variable, a Secret key that does not exist, a probe on a path the app does
not serve, a policy that lets nothing through.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy.engine import make_url

from priyom_kit.settings import DatabaseSettings

from .render import EXAMPLE_SECRETS, PRODUCTION_SECRETS, ROOT
from .services import SERVICES, image_uid, package, setting_names, settings_class, uses_blobs, verbs
from .wiring import Obj, Pod, allows, environment, named, operator_secrets, pods, selects

CONSUMERS = ("identity", "router", "tickets")
#: Read by libraries rather than by the settings classes (the OpenTelemetry SDK's standard variables).
READ_OUTSIDE_SETTINGS = ("OTEL_",)


def pod_of(objects: list[Obj], kind: str, service: str, component: str) -> Pod:
    (found,) = [pod for pod in pods(objects) if pod.owner["kind"] == kind
                and pod.labels.get("app.kubernetes.io/name") == service
                and pod.labels.get("app.kubernetes.io/component") == component]
    return found


def server(objects: list[Obj], service: str) -> Pod:
    return pod_of(objects, "Deployment", service, "server")


def container(pod: Pod) -> Obj:
    (only,) = pod.spec["containers"]
    return only


def loaded_settings(service: str, env: dict[str, str]) -> Any:
    with mock.patch.dict(os.environ, env, clear=True):
        return settings_class(service)()


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_a_deployment_a_service_and_a_budget(objects: list[Obj], service: str) -> None:
    pod = server(objects, service)
    assert pod.owner["metadata"]["name"] == service
    assert any(selects({"matchLabels": s["spec"]["selector"]}, pod.labels) for s in named(objects, "Service").values())
    budgets = [b for b in named(objects, "PodDisruptionBudget").values() if selects(b["spec"]["selector"], pod.labels)]
    assert len(budgets) == 1, f"{service}: {len(budgets)} PodDisruptionBudgets select its pods"


def test_every_deployment_is_one_of_the_services(objects: list[Obj]) -> None:
    assert sorted(named(objects, "Deployment")) == sorted(SERVICES)


def test_a_drain_never_takes_the_rabbitmq_majority(objects: list[Obj]) -> None:
    (rabbitmq,) = [p for p in pods(objects) if p.owner["kind"] == "RabbitmqCluster"]
    (budget,) = [b for b in named(objects, "PodDisruptionBudget").values()
                 if selects(b["spec"]["selector"], rabbitmq.labels)]
    assert budget["spec"]["maxUnavailable"] < rabbitmq.owner["spec"]["replicas"] / 2


def test_the_consumers_scale_on_their_own(objects: list[Obj]) -> None:
    scalers = {h["spec"]["scaleTargetRef"]["name"]: h for h in named(objects, "HorizontalPodAutoscaler").values()}
    assert sorted(scalers) == sorted(CONSUMERS)
    deployments = named(objects, "Deployment")
    for name, scaler in scalers.items():
        assert scaler["spec"]["scaleTargetRef"]["kind"] == "Deployment"
        assert scaler["spec"]["minReplicas"] >= 2, f"{name}: one replica is no redundancy"
        # A replicas field would be set back on every apply, fighting the autoscaler.
        assert "replicas" not in deployments[name]["spec"], f"{name} sets replicas although it is autoscaled"
        assert all("requests" in c.get("resources", {}) for c in server(objects, name).spec["containers"])


@pytest.mark.parametrize("service", SERVICES)
def test_containers_run_the_services_entry_point(objects: list[Obj], service: str) -> None:
    app = container(server(objects, service))
    assert app["command"] == ["python", "-m", package(service), "serve"]
    assert app["image"].rsplit(":", 1)[0].endswith(f"priyom/{service}")
    jobs = [pod for pod in pods(objects) if pod.owner["kind"] == "Job"
            and pod.labels.get("app.kubernetes.io/name") == service]
    if "migrate" not in verbs(service):
        assert not jobs, f"{service} has no migrate command, yet a Job for it"
        return
    (job,) = jobs
    assert container(job)["command"] == ["python", "-m", package(service), "migrate"]
    assert container(job)["image"] == app["image"]


def test_every_pod_runs_locked_down(objects: list[Obj]) -> None:
    for pod in pods(objects):
        if pod.owner["kind"] not in ("Deployment", "Job"):
            continue
        name = pod.owner["metadata"]["name"]
        service = pod.labels["app.kubernetes.io/name"]
        context = pod.spec["securityContext"]
        assert context["runAsNonRoot"] is True, name
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, name   # "restricted" asks for it
        assert context["runAsUser"] == (image_uid(service) or context["runAsUser"]) == 10001, name
        assert pod.spec["automountServiceAccountToken"] is False, name
        # Service links would set TICKETS_PORT=tcp://10.0.0.7:8000 beside the Service "tickets": a settings
        # variable of another meaning, which the port field refuses.
        assert pod.spec["enableServiceLinks"] is False, name
        for each in pod.spec["containers"]:
            locked = each["securityContext"]
            assert locked["readOnlyRootFilesystem"] is True and locked["allowPrivilegeEscalation"] is False, name
            assert locked["capabilities"]["drop"] == ["ALL"], name
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= each["resources"][bound].keys(), f"{name}: {bound}"
            assert any(m["mountPath"] == "/tmp" for m in each["volumeMounts"]), f"{name}: no writable /tmp"


@pytest.mark.parametrize("service", SERVICES)
def test_the_settings_accept_the_environment_the_pod_gets(objects: list[Obj], service: str) -> None:
    pod = server(objects, service)
    env = environment(container(pod), objects)
    helpers = {name for name in env if any(f"$({name})" in c.get("value", "") for c in container(pod)["env"])}
    unknown = {name for name in env.keys() - setting_names(service) - helpers
               if not name.startswith(READ_OUTSIDE_SETTINGS)}
    assert not unknown, f"{service} is given variables its settings do not read: {sorted(unknown)}"
    settings = loaded_settings(service, env)
    assert settings.host == "0.0.0.0"
    assert settings.port == pod.ports["http"]
    secrets = operator_secrets(objects)
    (broker,) = [s["connection_string"] for s in secrets.values() if "connection_string" in s]
    assert settings.amqp_url.get_secret_value() == broker
    assert settings.admin_token is not None
    if uses_blobs(service):
        mounts = {m["mountPath"] for m in container(pod)["volumeMounts"]} - {"/tmp"}
        assert str(settings.blob_dir) in mounts, f"{service}: PRIYOM_BLOB_DIR is not a mounted volume"
    for other in SERVICES:   # an address of another service the settings can take must be given
        field = f"{other.replace('-', '_')}_url"
        if field in type(settings).model_fields:
            assert getattr(settings, field), f"{service}: {field} is not set"


def test_what_services_share_is_set_alike_in_each(objects: list[Obj]) -> None:
    """A variable several services read (PRIYOM_PUBLIC_LINK_SECRET, the key tickets and intake-web share) is set
    in all of them or in none, to one value: set in one only, the form's links would never open."""
    envs = {service: environment(container(server(objects, service)), objects) for service in SERVICES}
    readers: dict[str, list[str]] = {}
    for service in SERVICES:
        for name in setting_names(service):
            readers.setdefault(name, []).append(service)
    for name, services in readers.items():
        values = {service: envs[service].get(name) for service in services}
        if len(services) > 1 and any(value is not None for value in values.values()):
            assert len(set(values.values())) == 1, f"{name} differs or is missing: {values}"
    assert envs["tickets"]["PRIYOM_PUBLIC_LINK_SECRET"]


@pytest.mark.parametrize("service", [s for s in SERVICES if issubclass(settings_class(s), DatabaseSettings)])
def test_services_with_data_and_their_migrations_use_their_own_postgres_database(
        objects: list[Obj], service: str) -> None:
    (cluster_name, cluster), = named(objects, "Cluster").items()
    databases = {d["spec"]["name"]: d["spec"] for d in named(objects, "Database").values()
                 if d["spec"]["cluster"]["name"] == cluster_name}
    urls = []
    for pod in (server(objects, service), pod_of(objects, "Job", service, "migration")):
        url = make_url(loaded_settings(service, environment(container(pod), objects)).database_url.get_secret_value())
        assert url.drivername == "postgresql+asyncpg" and url.host == f"{cluster_name}-rw"
        assert databases[url.database]["owner"] == url.username == cluster["spec"]["bootstrap"]["initdb"]["owner"]
        urls.append(url)
    assert urls[0] == urls[1], f"{service}'s migration Job migrates another database than it serves from"


@pytest.mark.parametrize("service", SERVICES)
async def test_probes_ask_paths_the_app_answers(objects: list[Obj], service: str) -> None:
    """The app built from the pod's environment answers each probe's path: liveness 200 with no broker or
    database in reach (the lifespan is not run, nothing connects), readiness 503 then, never 404."""
    pod = server(objects, service)
    app = container(pod)
    assert app["readinessProbe"]["httpGet"]["path"] == "/health"
    assert app["livenessProbe"]["httpGet"]["path"] == "/livez"
    probes = {kind: app[kind]["httpGet"] for kind in ("startupProbe", "readinessProbe", "livenessProbe")}
    assert all(probe["port"] in pod.ports for probe in probes.values())
    with mock.patch.dict(os.environ, environment(app, objects), clear=True):
        module = __import__(f"{package(service)}.app", fromlist=["create_app"])
        built = module.create_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=built), base_url="http://pod") as client:
        answers = {kind: (await client.get(probe["path"])).status_code for kind, probe in probes.items()}
    assert answers == {"startupProbe": 200, "readinessProbe": 503, "livenessProbe": 200}


def test_each_call_between_services_is_allowed_at_both_ends(objects: list[Obj]) -> None:
    """Every http://<service>:<port> address in a service's environment names a Service with that port, and
    the NetworkPolicies let the caller's pods reach the pods behind it."""
    services = named(objects, "Service")
    calls = 0
    for caller in SERVICES:
        source = server(objects, caller)
        for name, value in environment(container(source), objects).items():
            found = re.fullmatch(r"http://([a-z0-9-]+):(\d+)/?", value)
            if not found:
                continue
            target_service = services[found[1]]
            (port,) = [p for p in target_service["spec"]["ports"] if p["port"] == int(found[2])]
            (target,) = [p for p in pods(objects) if selects({"matchLabels": target_service["spec"]["selector"]},
                                                             p.labels)]
            number = target.ports.get(port["targetPort"], port["targetPort"])
            assert allows(objects, source, target, number), f"{caller} cannot reach {value} ({name})"
            calls += 1
    assert calls >= 5


def test_every_pod_reaches_the_broker_and_only_owners_reach_the_database(objects: list[Obj]) -> None:
    (rabbitmq,) = [p for p in pods(objects) if p.owner["kind"] == "RabbitmqCluster"]
    (postgres,) = [p for p in pods(objects) if p.owner["kind"] == "Cluster"]
    for pod in pods(objects):
        if pod.owner["kind"] not in ("Deployment", "Job"):
            continue
        service = pod.labels["app.kubernetes.io/name"]
        owns_data = issubclass(settings_class(service), DatabaseSettings)
        assert allows(objects, pod, rabbitmq, 5672), f"{pod.owner['metadata']['name']} cannot reach RabbitMQ"
        assert allows(objects, pod, postgres, 5432) == owns_data, pod.owner["metadata"]["name"]
    assert not allows(objects, server(objects, "intake-web"), server(objects, "identity"), 8001)


def test_every_network_policy_selects_pods(objects: list[Obj]) -> None:
    everything = pods(objects)
    for name, policy in named(objects, "NetworkPolicy").items():
        spec = policy["spec"]
        assert spec["podSelector"] == {} or any(selects(spec["podSelector"], p.labels) for p in everything), name
        peers = [peer for rule in spec.get("ingress", []) for peer in rule.get("from", [])] + \
                [peer for rule in spec.get("egress", []) for peer in rule.get("to", [])]
        for peer in peers:
            if "podSelector" in peer and "namespaceSelector" not in peer:
                assert any(selects(peer["podSelector"], p.labels) for p in everything), f"{name}: {peer}"


def test_the_ingress_serves_the_addresses_the_services_announce(objects: list[Obj]) -> None:
    """The form's ticket lookup, the Telegram webhook and the CORS origin name hosts the Ingress serves, and
    traffic from the Ingress controller may reach each backend."""
    (ingress,) = named(objects, "Ingress").values()
    routes = {(rule["host"], path["path"]): path["backend"]["service"]
              for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]}
    services = named(objects, "Service")
    policies = named(objects, "NetworkPolicy").values()
    for backend in routes.values():
        (port,) = [p for p in services[backend["name"]]["spec"]["ports"] if p["name"] == backend["port"]["name"]]
        (target,) = [p for p in pods(objects) if selects({"matchLabels": services[backend["name"]]["spec"]["selector"]},
                                                         p.labels)]
        assert any(selects(pol["spec"]["podSelector"], target.labels)
                   and any(peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
                           == "ingress-nginx" and target.ports.get(port["targetPort"]) in
                           [target.ports.get(p["port"], p["port"]) for p in rule.get("ports", [])]
                           for rule in pol["spec"].get("ingress", []) for peer in rule.get("from", []))
                   for pol in policies), f"the Ingress controller may not reach {backend['name']}"
    hosts = {host for host, _ in routes}
    web = loaded_settings("intake-web", environment(container(server(objects, "intake-web")), objects))
    assert routes[(urlsplit(web.tickets_public_url).hostname, "/")]["name"] == "tickets"
    tickets = loaded_settings("tickets", environment(container(server(objects, "tickets")), objects))
    assert {urlsplit(origin).hostname for origin in tickets.cors_origins} <= hosts
    messenger = loaded_settings("intake-messenger", environment(container(server(objects, "intake-messenger")),
                                                                objects))
    hook = urlsplit(messenger.telegram_webhook_url)
    assert routes[(hook.hostname, hook.path)]["name"] == "intake-messenger"


def test_the_example_secrets_hold_no_secret() -> None:
    """Only placeholders may be committed: each value is empty (the feature off), an empty list, or says it
    is an example; the real ones go in the production overlay's app-secrets.env, which git ignores."""
    example = (ROOT / "deploy" / "k8s" / EXAMPLE_SECRETS).read_text().splitlines()
    values = dict(line.split("=", 1) for line in example if line.strip() and not line.startswith("#"))
    assert {"PRIYOM_ADMIN_TOKEN", "INTAKE_WEB_CHALLENGE_KEY"} <= values.keys()
    def placeholder(value: str) -> bool:
        if value.startswith("{"):  # a JSON object of secrets (PRIYOM_SERVICE_TOKENS): each one a placeholder
            return all(placeholder(v) for v in json.loads(value).values())
        return value in ("", "[]") or value.startswith("example-only-")

    assert all(placeholder(v) for v in values.values()), values
    ignored = (ROOT / "deploy" / "k8s" / "overlays" / "production" / ".gitignore").read_text().split()
    assert PRODUCTION_SECRETS.rsplit("/", 1)[1] in ignored
