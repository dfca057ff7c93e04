"""deploy/docker-compose.yml starts a complete, closed stack: read with PyYAML, since no engine may run here.

Every service that owns data gets its database URL and a one-shot migration it waits for; every variable
compose sets is one the service reads (a typo would be silently ignored); every address of another service
is set; every ``${VAR}`` compose takes is documented in deploy/.env.example; infrastructure is never
published on a public interface; every ``*_FILE`` names a secret the service mounts and make-secrets.sh
writes; each database a URL names is created by init.sql.
"""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from priyom_kit.secret_files import FILE_SUFFIX, env_names
from priyom_kit.settings import DatabaseSettings, ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/pyproject.toml"))
#: Published on every interface on purpose: the TLS proxy and the SMTP endpoint mail arrives at.
PUBLIC = {"caddy", "intake-email"}
#: Variables read by something other than the settings classes.
NOT_SETTINGS = {"FORWARDED_ALLOW_IPS"}  # uvicorn's


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))


def _settings(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"priyom_{service.replace('-', '_')}.settings")
    (cls,) = [c for _, c in inspect.getmembers(module, inspect.isclass)
              if issubclass(c, ServiceSettings) and c.__module__ == module.__name__]
    return cls


def _fields(cls: type[ServiceSettings]) -> list[list[str]]:
    """Each field's variables (a field may have two: ``TICKETS_DATABASE_URL`` or ``DATABASE_URL``)."""
    prefix = str(cls.model_config.get("env_prefix", ""))
    return [env_names(field, info, prefix) for field, info in cls.model_fields.items()]


def _set(environment: dict[str, Any]) -> set[str]:
    """The variables an environment gives, a NAME_FILE counting as NAME."""
    return {name.removesuffix(FILE_SUFFIX) for name in environment}


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_is_configured_completely(service: str) -> None:
    spec = _compose()["services"][service]
    assert spec["build"]["dockerfile"] == f"services/{service}/Dockerfile"
    assert spec["build"]["args"]["BASE_IMAGE"].startswith("${BASE_IMAGE")
    cls = _settings(service)
    fields = _fields(cls)
    given = _set(spec["environment"])
    assert given - {n for names in fields for n in names} - NOT_SETTINGS == set(), f"{service}: never read"
    # Every address of another service or of the outside (the database, the broker, identity, tickets…).
    unset = [names for names in fields if names[0].endswith("_URL") and not given & set(names)]
    assert unset == [], f"{service}: addresses not set in compose"
    prefix = str(cls.model_config.get("env_prefix", ""))
    assert f"{prefix}HOST" in given and f"{prefix}PORT" in given, "listen address and port"
    assert "healthcheck" in spec


def _interpolated(value: object) -> str:
    """``${VAR:-default}`` as compose reads it with no .env: the default."""
    return re.sub(r"\$\{(\w+)(?::-([^}]*))?\}", lambda m: m.group(2) or "", str(value))


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_starts_with_the_compose_environment(service: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The settings load from exactly what compose gives, secrets as make-secrets.sh writes them: an empty
    ``${VAR:-}`` a field cannot parse would stop the container at start."""
    subprocess.run([str(DEPLOY / "make-secrets.sh")], env={"SECRETS_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
                   check=True, capture_output=True, timeout=30)
    cls = _settings(service)
    for names in _fields(cls):
        for name in names:
            monkeypatch.delenv(name, raising=False)
            monkeypatch.delenv(name + FILE_SUFFIX, raising=False)
    for name, value in _compose()["services"][service]["environment"].items():
        monkeypatch.setenv(name, _interpolated(value).replace("/run/secrets/", f"{tmp_path}/"))
    settings = cls()
    assert settings.admin_token is not None and settings.amqp_url.get_secret_value().startswith("amqp://priyom:")


@pytest.mark.parametrize("service", [s for s in SERVICES if issubclass(_settings(s), DatabaseSettings)])
def test_a_service_owning_data_waits_for_its_migration(service: str) -> None:
    services = _compose()["services"]
    prefix = str(_settings(service).model_config["env_prefix"])
    url = f"{prefix}DATABASE_URL{FILE_SUFFIX}"
    migrate = services[f"{service}-migrate"]
    assert services[service]["environment"][url] == migrate["environment"][url]
    assert migrate["command"][-1] == "migrate" and migrate["image"] == services[service]["image"]
    assert services[service]["depends_on"][f"{service}-migrate"] == {"condition": "service_completed_successfully"}
    assert migrate["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert services[service]["command"][-1] == "serve"


def test_every_secret_file_is_mounted_declared_and_generated(tmp_path: Path) -> None:
    compose = _compose()
    subprocess.run([str(DEPLOY / "make-secrets.sh")], env={"SECRETS_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
                   check=True, capture_output=True, timeout=30)
    declared = compose["secrets"]
    for name, spec in declared.items():
        assert spec["file"].startswith("${PRIYOM_SECRETS_DIR:-./secrets}/"), name
        assert (tmp_path / Path(spec["file"]).name).is_file(), f"make-secrets.sh does not write {name}"
    for service, spec in compose["services"].items():
        mounted = {s if isinstance(s, str) else s["source"] for s in spec.get("secrets", [])}
        assert mounted <= set(declared), service
        for name, value in (spec.get("environment") or {}).items():
            if name.endswith(FILE_SUFFIX):
                secret = str(value).removeprefix("/run/secrets/")
                assert secret in mounted, f"{service}: {name} names {value}, which it does not mount"
    databases = set(re.findall(r"CREATE DATABASE (\w+)", (DEPLOY / "postgres" / "init.sql").read_text()))
    named = {url.read_text().strip().rsplit("/", 1)[1] for url in tmp_path.glob("*_database_url")}
    assert named == databases


def test_every_compose_variable_is_in_the_env_example() -> None:
    text = (DEPLOY / "docker-compose.yml").read_text(encoding="utf-8")
    taken = set(re.findall(r"\$\{(\w+)", text))
    example = set(re.findall(r"^(\w+)=", (DEPLOY / ".env.example").read_text(encoding="utf-8"), re.M))
    assert taken - example == set(), "add them to deploy/.env.example"
    assert example - taken == set(), "deploy/.env.example lists variables compose never reads"


def test_no_infrastructure_port_on_a_public_interface() -> None:
    for service, spec in _compose()["services"].items():
        for port in spec.get("ports", []):
            if service in PUBLIC:
                continue
            assert str(port).startswith("127.0.0.1:"), f"{service} publishes {port} on every interface"


def test_the_proxy_reaches_the_public_doors() -> None:
    compose = _compose()
    caddyfile = (DEPLOY / "caddy" / "Caddyfile").read_text(encoding="utf-8")
    upstreams = set(re.findall(r"reverse_proxy ([\w-]+):(\d+)", caddyfile))
    for service, port in upstreams:
        prefix = str(_settings(service).model_config["env_prefix"])
        assert compose["services"][service]["environment"][f"{prefix}PORT"] == port
    assert {s for s, _ in upstreams} == {"tickets", "intake-web", "intake-messenger", "intake-telephony", "portal"}


@pytest.mark.parametrize("service", SERVICES)
def test_the_dockerfile_takes_its_base_image(service: str) -> None:
    dockerfile = (ROOT / "services" / service / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim\nFROM \$\{BASE_IMAGE\}$", dockerfile, re.M)
    assert f"./services/{service}" in dockerfile and "USER priyom" in dockerfile
