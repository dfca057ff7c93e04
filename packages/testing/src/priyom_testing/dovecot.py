"""A throwaway Dovecot IMAP server on a high port (LIBRARY-NOTES §4), for intake-email's tests, the e2e tests
and ``bench/email.py``.

Dovecot is run as a separate program and spoken to over IMAP only: nothing here imports aioimaplib or the
GPL-3.0 intake-email service, so this harness is Apache-2.0 like the rest of ``priyom_testing``. Dovecot refuses to run its login process as root, so as root the login and
internal users are Dovecot's own and mail belongs to ``nobody``; otherwise everything runs as the caller.
Every user logs in with the one generated password; a new user name is a new, empty mailbox.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .ports import free_port, wait_port

DOVECOT_CONF = """
protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
instance_name = priyom-test-{port}
log_path = {d}/dovecot.log
{ssl}
disable_plaintext_auth = no
auth_failure_delay = 0
auth_mechanisms = plain login{oauth2_mechanisms}
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
    address = 127.0.0.1
    port = {imaps_port}
  }}
}}
service anvil {{
  chroot =
}}
{oauth2_passdb}
passdb {{
  driver = static
  args = password={password}
  mechanisms = plain login
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_group} home={d}/mail/%u
}}
mail_location = maildir:~/Maildir
"""

TLS_CONF = """ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
"""

#: Dovecot checks each XOAUTH2/OAUTHBEARER token by POSTing it to an introspection endpoint (RFC 7662).
OAUTH2_PASSDB = """passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {d}/dovecot-oauth2.conf.ext
}}"""

OAUTH2_CONF = """introspection_mode = post
introspection_url = {url}
username_attribute = username
active_attribute = active
active_value = true
"""


class DovecotMissing(RuntimeError):
    """Dovecot is not installed here."""


@dataclass
class Dovecot:
    port: int
    password: str
    root: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    imaps_port: int = 0  # implicit TLS, when started with a certificate

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


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1 and localhost (PEM certificate, PEM key)."""
    if shutil.which("openssl") is None:
        raise DovecotMissing("openssl is needed to make a test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def start_dovecot(*, tls: bool = False, oauth2_introspection_url: str | None = None) -> Dovecot:
    """``tls``: STARTTLS on the plain port and implicit TLS on ``imaps_port``, with a self-signed certificate
    (``root/cert.pem``, which a client must trust). ``oauth2_introspection_url``: XOAUTH2 logins, each token
    checked at that URL; the static password still works for LOGIN."""
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
    if binary is None:
        raise DovecotMissing("Dovecot is not installed (scripts/ensure-services.sh dovecot, "
                             "or apt-get install dovecot-imapd)")
    # Not under pytest's tmp (mode 700): the unprivileged mail user must reach the mail folder.
    root = Path(tempfile.mkdtemp(prefix="priyom-dovecot-"))
    root.chmod(0o755)
    (root / "mail").mkdir()
    (root / "mail").chmod(0o777)
    port, imaps_port, password = free_port(), (free_port() if tls else 0), uuid.uuid4().hex
    ssl_conf = "ssl = no"
    if tls:
        cert, key = make_certificate(root)
        ssl_conf = TLS_CONF.format(cert=cert, key=key)
    oauth2_passdb = oauth2_mechanisms = ""
    if oauth2_introspection_url:
        (root / "dovecot-oauth2.conf.ext").write_text(OAUTH2_CONF.format(url=oauth2_introspection_url))
        oauth2_passdb, oauth2_mechanisms = OAUTH2_PASSDB.format(d=root), " xoauth2 oauthbearer"
    conf = root / "dovecot.conf"
    conf.write_text(DOVECOT_CONF.format(d=root, port=port, imaps_port=imaps_port, password=password, ssl=ssl_conf,
                                        oauth2_passdb=oauth2_passdb, oauth2_mechanisms=oauth2_mechanisms,
                                        **_users()))
    process = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    server = Dovecot(port=port, password=password, root=root, process=process, imaps_port=imaps_port)
    try:
        wait_port(port)
        if imaps_port:
            wait_port(imaps_port)
    except TimeoutError:
        server.stop()
        raise
    return server


@contextmanager
def dovecot_or_skip(**options: Any) -> Iterator[Dovecot]:
    """For a pytest fixture: a Dovecot started with ``options`` (see :func:`start_dovecot`) and stopped after,
    or the test skipped with the reason where Dovecot is not installed."""
    import pytest  # only the tests come here; the service never imports pytest

    try:
        server = start_dovecot(**options)
    except DovecotMissing as missing:
        pytest.skip(str(missing))
    try:
        yield server
    finally:
        server.stop()
