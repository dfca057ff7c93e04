"""Real parts only: RabbitMQ on names of this test (``cleanup_bus``), a Dovecot IMAP server started here on a
high port with a throwaway configuration (LIBRARY-NOTES §4), the service's own SMTP endpoint, SQLite."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from priyom_contracts import ContactReceived, Topology
from priyom_intake_email.app import create_app
from priyom_intake_email.settings import IntakeEmailSettings
from priyom_intake_email.store import migrate

DOVECOT_CONF = """
protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
instance_name = priyom-test-{port}
log_path = {d}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_group} home={d}/mail/%u
}}
mail_location = maildir:~/Maildir
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


@dataclass(frozen=True)
class Dovecot:
    port: int
    password: str
    root: Path

    def mailbox_config(self, user: str, **extra: Any) -> dict[str, Any]:
        return {"name": user, "host": "127.0.0.1", "port": self.port, "tls": False, "username": user,
                "password": self.password, **extra}


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
    if binary is None:
        pytest.skip("Dovecot is not installed (scripts/ensure-services.sh dovecot, or apt-get install dovecot-imapd)")
    # Not under pytest's tmp (mode 700): the unprivileged mail user must reach the mail folder.
    root = Path(tempfile.mkdtemp(prefix="priyom-dovecot-"))
    root.chmod(0o755)
    (root / "mail").mkdir(mode=0o777)
    (root / "mail").chmod(0o777)
    if os.geteuid() == 0:  # Dovecot refuses to run its login process as root
        users = {"login_user": "dovenull", "internal_user": "dovecot", "internal_group": "dovecot",
                 "mail_user": "nobody", "mail_group": "nogroup"}
    else:
        import grp
        import pwd

        me, group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
        users = {"login_user": me, "internal_user": me, "internal_group": group, "mail_user": me,
                 "mail_group": group}
    port, password = free_port(), uuid.uuid4().hex
    conf = root / "dovecot.conf"
    conf.write_text(DOVECOT_CONF.format(d=root, port=port, password=password, **users))
    process = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    try:
        wait_port(port)
        yield Dovecot(port=port, password=password, root=root)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def mailbox_user() -> str:
    """A fresh mailbox per test: Dovecot's static userdb creates it on first login."""
    return f"u{uuid.uuid4().hex[:10]}"


@pytest.fixture
def database_file(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'intake-email.db'}"
    migrate(url)
    return url


@pytest.fixture
def settings(cleanup_bus: str, amqp_url: str, tmp_path: Path, database_file: str) -> IntakeEmailSettings:
    return IntakeEmailSettings(
        AMQP_URL=amqp_url, PRIYOM_BUS_PREFIX=cleanup_bus, PRIYOM_BLOB_DIR=tmp_path / "blobs",
        INTAKE_EMAIL_DATABASE_URL=database_file, smtp_port=free_port(), SMTP_DOMAINS="priyom.local,example.org",
        smtp_recipients="help@partner.example", smtp_max_bytes=1024 * 1024, imap_idle_s=30, imap_poll_s=0.5,
        relay_port=free_port(), PRIYOM_RETRY_DELAY_MS=50, PRIYOM_MAX_ATTEMPTS=3,
    )


@pytest.fixture
async def running(settings: IntakeEmailSettings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        yield app


class BusReader:
    """Reads what the service published: the contacts (identity's queue) and the dead letters."""

    def __init__(self, amqp_url: str, prefix: str) -> None:
        self.amqp_url = amqp_url
        self.topology = Topology(prefix)

    async def _drain(self, queue_name: str, count: int, timeout: float) -> list[aio_pika.abc.AbstractMessage]:
        connection = await aio_pika.connect(self.amqp_url)
        async with connection:
            channel = await connection.channel()
            queue = await channel.get_queue(queue_name, ensure=False)
            got: list[aio_pika.abc.AbstractMessage] = []
            deadline = time.monotonic() + timeout
            while len(got) < count and time.monotonic() < deadline:
                message = await queue.get(no_ack=True, fail=False)
                if message is None:
                    await asyncio.sleep(0.05)
                    continue
                got.append(message)
            return got

    async def contacts(self, count: int, timeout: float = 20.0) -> list[ContactReceived]:
        messages = await self._drain(self.topology.queue("identity.contacts").name, count, timeout)
        return [ContactReceived.model_validate_json(m.body) for m in messages]

    async def dead_letters(self, count: int, timeout: float = 20.0) -> list[aio_pika.abc.AbstractMessage]:
        return await self._drain(self.topology.dead_letter_queue, count, timeout)

    async def published(self, queue_key: str, count: int, timeout: float = 20.0) -> list[bytes]:
        return [m.body for m in await self._drain(self.topology.queue(queue_key).name, count, timeout)]


@pytest.fixture
def bus_reader(amqp_url: str, cleanup_bus: str) -> BusReader:
    return BusReader(amqp_url, cleanup_bus)
