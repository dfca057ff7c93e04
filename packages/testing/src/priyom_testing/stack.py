"""Run the real services as processes against the real broker and databases, for end-to-end tests and
benchmarks. Nothing here knows a service's internals: it uses the same commands and variables as
``make up`` and the README."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .ports import free_port

SERVICES: dict[str, str] = {
    "tickets": "priyom_tickets",
    "identity": "priyom_identity",
    "intake-web": "priyom_intake_web",
    "intake-email": "priyom_intake_email",
    "intake-telephony": "priyom_intake_telephony",
    "intake-messenger": "priyom_intake_messenger",
    "router": "priyom_router",
}
ENV_PREFIX = {name: name.upper().replace("-", "_") + "_" for name in SERVICES}
MIGRATED = ("identity", "tickets", "router", "intake-email", "intake-messenger")


@dataclass
class Stack:
    """A running set of services. ``url(name)`` is each service's base URL."""

    env: dict[str, str]
    workdir: Path
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.env['PRIYOM_ADMIN_TOKEN']}"}

    def log(self, service: str) -> str:
        path = self.workdir / f"{service}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def migrate(self) -> None:
        for service in MIGRATED:
            subprocess.run([sys.executable, "-m", SERVICES[service], "migrate"], env=self.env, check=True,
                           cwd=self.workdir, capture_output=True, timeout=120)

    def start(self, services: Iterable[str] = SERVICES, timeout: float = 60) -> None:
        services = list(services)
        if "identity" in services and "identity" not in self.ports:  # tickets, started first, reads its cards
            self.ports["identity"] = free_port()
            self.env["IDENTITY_PORT"] = str(self.ports["identity"])
        for service in services:
            if service not in self.ports:
                self.ports[service] = free_port()
                self.env[f"{ENV_PREFIX[service]}PORT"] = str(self.ports[service])
            self.env["INTAKE_WEB_TICKETS_PUBLIC_URL"] = self.url("tickets") if "tickets" in self.ports else ""
            self.env["TICKETS_IDENTITY_URL"] = self.url("identity") if "identity" in self.ports else ""
            log = open(self.workdir / f"{service}.log", "ab")  # noqa: SIM115 - closed with the process
            self.processes[service] = subprocess.Popen(
                [sys.executable, "-m", SERVICES[service], "serve"], env=self.env, cwd=self.workdir,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        for service in services:
            self.wait_healthy(service, timeout)

    def wait_healthy(self, service: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            process = self.processes[service]
            if process.poll() is not None:
                raise RuntimeError(f"{service} exited with {process.returncode}:\n{self.log(service)[-3000:]}")
            try:
                if httpx.get(f"{self.url(service)}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{service} not healthy after {timeout}s:\n{self.log(service)[-3000:]}")

    def kill(self, service: str, sig: int = signal.SIGKILL) -> None:
        process = self.processes.pop(service)
        os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def stop(self) -> None:
        for service in list(self.processes):
            process = self.processes.pop(service)
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in list(self.processes.values()):
            process.wait(timeout=30)


def database_urls(backend: str, workdir: Path, create_pg: Callable[[], str]) -> dict[str, str]:
    """One database per data-owning service: fresh PostgreSQL databases, or SQLite files in ``workdir``."""
    if backend == "postgresql":
        return {service: create_pg() for service in MIGRATED}
    return {service: f"sqlite+aiosqlite:///{workdir / service}.db" for service in MIGRATED}


def stack_env(base: Mapping[str, str], *, workdir: Path, prefix: str, admin_token: str,
              database_urls: Mapping[str, str]) -> dict[str, str]:
    env = dict(base)
    env.update(
        PRIYOM_BUS_PREFIX=prefix,
        PRIYOM_ADMIN_TOKEN=admin_token,
        PRIYOM_BLOB_DIR=str(workdir / "blobs"),
        PRIYOM_RETRY_DELAY_MS="200",
        LOG_LEVEL="INFO",
        INTAKE_EMAIL_SMTP_PORT=str(free_port()),  # 2525 may be taken by another stack on this machine
    )
    env.update({f"{ENV_PREFIX[service]}DATABASE_URL": url for service, url in database_urls.items()})
    return env
