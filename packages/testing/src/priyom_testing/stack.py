"""Run the real services as processes against the real broker and databases, for end-to-end tests and
benchmarks. Nothing here knows a service's internals: it uses the same commands and variables as
``make up`` and the README."""

from __future__ import annotations

import json
import os
import secrets
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
    "portal": "priyom_portal",
}
ENV_PREFIX = {name: name.upper().replace("-", "_") + "_" for name in SERVICES}
MIGRATED = ("identity", "tickets", "router", "intake-email", "intake-messenger", "intake-telephony", "portal")


def replica(service: str, n: int) -> str:
    """The name of a service's ``n``-th process (``tickets``, ``tickets#2``, …): several run side by side."""
    return service if n == 1 else f"{service}#{n}"


def service_of(process: str) -> str:
    """``tickets`` for ``tickets`` and ``tickets#2``."""
    return process.split("#", 1)[0]


@dataclass
class Stack:
    """A running set of services. ``url(name)`` is each service's base URL. ``python`` names the interpreter
    of a service installed apart (its own virtualenv, scripts/check_deploy_venvs.py); others run on this one."""

    env: dict[str, str]
    workdir: Path
    python: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    #: Variables of one process only (a second intake-email's SMTP port), by process name.
    process_env: dict[str, dict[str, str]] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.env['PRIYOM_ADMIN_TOKEN']}"}

    def log(self, service: str) -> str:
        path = self.workdir / f"{service}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def diagnosis(self, lines: int = 8) -> str:
        """What a failed end-to-end test prints, so that a failure in CI can be understood from its output
        alone: this stack's queues (messages ready, unacknowledged, consumers) and each service's last warnings
        and errors."""
        parts = ["queues (ready, unacknowledged, consumers):"]
        try:
            listed = subprocess.run(
                ["rabbitmqctl", "list_queues", "-q", "--no-table-headers", "name", "messages_ready",
                 "messages_unacknowledged", "consumers"], capture_output=True, text=True, timeout=30, check=True)
            prefix = self.env.get("PRIYOM_BUS_PREFIX", "")
            parts += [f"  {row}" for row in listed.stdout.splitlines() if row.startswith(prefix)]
        except (OSError, subprocess.SubprocessError) as exc:
            parts.append(f"  not listed: {type(exc).__name__}")
        for service in self.ports:
            noted = [line[:240] for line in self.log(service).splitlines()
                     if "[warning" in line or "[error" in line or "Traceback" in line]
            parts.append(f"{service}: {len(noted)} warnings and errors, the last {min(lines, len(noted))}:")
            parts += [f"  {line}" for line in noted[-lines:]]
        return "\n".join(parts)

    def dead_letters(self, **filters: str | int) -> list[dict]:
        """The dead letters tickets keeps (``GET /api/v1/dead-letters``, every state unless ``state`` is
        given), newest first. Tickets drains the broker's dead-letter queue into its table, so a test that
        asserts what was or was not dead-lettered reads it here, not from the queue."""
        params = {"state": "all", "limit": 200, **filters}
        response = httpx.get(f"{self.url('tickets')}/api/v1/dead-letters", params=params,
                             headers=self.admin_headers, timeout=10)
        response.raise_for_status()
        return response.json()["items"]

    def console_url(self, extension: str, token: str) -> str:
        """``/ws/agent`` for ``extension`` with a fresh one-time ticket issued to ``token``'s holder, as the
        console asks for it (the socket takes no bearer token)."""
        issued = httpx.post(f"{self.url('tickets')}/api/v1/ws-tickets",
                            headers={"Authorization": f"Bearer {token}"}, timeout=10)
        issued.raise_for_status()
        ws = self.url("tickets").replace("http://", "ws://")
        return f"{ws}/ws/agent?extension={extension}&ticket={issued.json()['ticket']}"

    def migrate(self) -> None:
        """Every service's migrations, side by side (each database is its service's own): a stack's start is
        mostly these processes importing their service, one after another they took a dozen seconds or more."""
        running = {service: subprocess.Popen(
            [self.python.get(service, sys.executable), "-m", SERVICES[service], "migrate"], env=self.env,
            cwd=self.workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for service in MIGRATED}
        failed = []
        for service, process in running.items():
            try:
                output, _ = process.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
                output, _ = process.communicate()
            if process.returncode != 0:
                failed.append(f"{service} (exit {process.returncode}):\n{output.decode(errors='replace')[-3000:]}")
        if failed:
            raise RuntimeError("migrations failed: " + "\n".join(failed))

    def start(self, services: Iterable[str] = SERVICES, timeout: float = 60) -> None:
        services = list(services)
        # Every port first: services started early call ones started later (tickets reads identity's cards,
        # identity gathers tickets' and the router's parts of a subject export).
        for service in services:
            if service not in self.ports:
                # Not one another process of this stack was given: none of them listens yet to tell.
                taken = {*self.ports.values(), *(int(v) for env in self.process_env.values()
                                                 for k, v in env.items() if k.endswith("_PORT"))}
                while (port := free_port()) in taken:
                    pass
                self.ports[service] = port
                if service == service_of(service):
                    self.env[f"{ENV_PREFIX[service]}PORT"] = str(self.ports[service])
        for service in services:
            self.env["INTAKE_WEB_TICKETS_PUBLIC_URL"] = self.url("tickets") if "tickets" in self.ports else ""
            self.env["TICKETS_IDENTITY_URL"] = self.url("identity") if "identity" in self.ports else ""
            self.env["IDENTITY_TICKETS_URL"] = self.url("tickets") if "tickets" in self.ports else ""
            self.env["IDENTITY_ROUTER_URL"] = self.url("router") if "router" in self.ports else ""
            self.env["INTAKE_MESSENGER_CHAT_ROUTER_URL"] = self.url("router") if "router" in self.ports else ""
            self.env["PRIYOM_STAFF_URL"] = self.url("tickets") if "tickets" in self.ports else ""
            self.env["PORTAL_IDENTITY_URL"] = self.url("identity") if "identity" in self.ports else ""
            self.env["PORTAL_TICKETS_URL"] = self.url("tickets") if "tickets" in self.ports else ""
            log = open(self.workdir / f"{service}.log", "ab")  # noqa: SIM115 - closed with the process
            name = service_of(service)
            env = {**self.env, f"{ENV_PREFIX[name]}PORT": str(self.ports[service]), **self.process_env.get(service, {})}
            self.processes[service] = subprocess.Popen(
                [self.python.get(name, sys.executable), "-m", SERVICES[name], "serve"], env=env,
                cwd=self.workdir,
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
                health = httpx.get(f"{self.url(service)}/health", timeout=2)
                if health.status_code == 200:
                    # Another program on the port (a stack of another test took it) is not this service.
                    if health.json().get("service") != service_of(service):
                        raise RuntimeError(f"port {self.ports[service]} of {service} answers as {health.text}")
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
        """Stop every service and wait until each has exited: a service still connected would declare its
        queues again (aio-pika restores a queue deleted under its consumer) after the caller deleted them."""
        stopping = [self.processes.pop(service) for service in list(self.processes)]
        for process in stopping:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in stopping:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def database_urls(backend: str, workdir: Path, create_pg: Callable[[], str]) -> dict[str, str]:
    """One database per data-owning service: fresh PostgreSQL databases, or SQLite files in ``workdir``."""
    if backend == "postgresql":
        return {service: create_pg() for service in MIGRATED}
    return _sqlite_files(workdir)


def _sqlite_files(workdir: Path) -> dict[str, str]:
    return {service: f"sqlite+aiosqlite:///{workdir / service}.db" for service in MIGRATED}


#: The services that call another service's API (tickets and the router read identity's cards; identity
#: gathers tickets' and the router's parts of a subject export; the website chat reads the router's roster;
#: the portal reads a signing-in customer's card and their requests).
SERVICE_CALLERS = ("identity", "router", "tickets", "intake-messenger", "portal")


def stack_env(base: Mapping[str, str], *, workdir: Path, prefix: str,
              database_urls: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a stack on the bus prefix ``prefix``: its own admin token and secrets, and
    ``database_urls`` (by default SQLite files in ``workdir``, :func:`database_urls`)."""
    env = dict(base)
    env.update(
        PRIYOM_BUS_PREFIX=prefix,
        PRIYOM_ADMIN_TOKEN=secrets.token_urlsafe(24),
        PRIYOM_BLOB_DIR=str(workdir / "blobs"),
        PRIYOM_RETRY_DELAY_MS="200",
        LOG_LEVEL="INFO",
        INTAKE_EMAIL_SMTP_PORT=str(free_port()),  # 2525 may be taken by another stack on this machine
        INTAKE_EMAIL_CHECK_SENDERS="false",  # no DNS here: every lookup would only wait for its timeout
        # The tests and benchmarks post hundreds of contacts from one address without a browser: the form's
        # bot check and rate limits (tested in services/intake-web) would stop them.
        INTAKE_WEB_CHALLENGE="none",
        INTAKE_WEB_RATE_LIMIT_PER_IP="1000000/minute",
        INTAKE_WEB_RATE_LIMIT_PER_IDENTIFIER="1000000/minute",
        INTAKE_WEB_MAX_CONCURRENT_SUBMISSIONS="1000",
        PRIYOM_PUBLIC_LINK_SECRET=secrets.token_urlsafe(24),
        # Each service calls the others with its own credential, never the admin token.
        PRIYOM_SERVICE_TOKENS=json.dumps({name: secrets.token_urlsafe(24) for name in SERVICE_CALLERS}),
        TICKETS_PUBLIC_LINK_RATE="1000000/minute",
        # The customers' account: its key, and its cookie over the stack's plain HTTP.
        PORTAL_SESSION_SECRET=secrets.token_urlsafe(32),
        PORTAL_COOKIE_SECURE="false",
    )
    urls = _sqlite_files(workdir) if database_urls is None else database_urls
    env.update({f"{ENV_PREFIX[service]}DATABASE_URL": url for service, url in urls.items()})
    return env
