"""A throwaway Dovecot IMAP server on a high port (LIBRARY-NOTES §4), for the tests and ``bench/email.py``.

Not used by the service itself. Dovecot refuses to run its login process as root, so as root the login and
internal users are Dovecot's own and mail belongs to ``nobody``; otherwise everything runs as the caller.
Every user logs in with the one generated password; a new user name is a new, empty mailbox.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


class DovecotMissing(RuntimeError):
    """Dovecot is not installed here."""


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


@dataclass
class Dovecot:
    port: int
    password: str
    root: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def mailbox_config(self, user: str, **extra: Any) -> dict[str, Any]:
        """One element of ``INTAKE_EMAIL_IMAP_MAILBOXES`` for ``user``."""
        return {"name": user, "host": "127.0.0.1", "port": self.port, "tls": False, "username": user,
                "password": self.password, **extra}

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def _users() -> dict[str, str]:
    if os.geteuid() == 0:
        return {"login_user": "dovenull", "internal_user": "dovecot", "internal_group": "dovecot",
                "mail_user": "nobody", "mail_group": "nogroup"}
    import grp
    import pwd

    me, group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    return {"login_user": me, "internal_user": me, "internal_group": group, "mail_user": me, "mail_group": group}


def start_dovecot() -> Dovecot:
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
    if binary is None:
        raise DovecotMissing("Dovecot is not installed (scripts/ensure-services.sh dovecot, "
                             "or apt-get install dovecot-imapd)")
    # Not under pytest's tmp (mode 700): the unprivileged mail user must reach the mail folder.
    root = Path(tempfile.mkdtemp(prefix="priyom-dovecot-"))
    root.chmod(0o755)
    (root / "mail").mkdir()
    (root / "mail").chmod(0o777)
    port, password = free_port(), uuid.uuid4().hex
    conf = root / "dovecot.conf"
    conf.write_text(DOVECOT_CONF.format(d=root, port=port, password=password, **_users()))
    process = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    server = Dovecot(port=port, password=password, root=root, process=process)
    try:
        wait_port(port)
    except TimeoutError:
        server.stop()
        raise
    return server
