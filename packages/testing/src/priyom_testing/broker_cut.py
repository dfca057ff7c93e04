"""Cut a client's connection at the broker, as a broker restart or a network cut would, to test reconnects."""

from __future__ import annotations

import os
import shutil
import subprocess

#: Why a test that cuts connections cannot run here (None: it can): it needs rabbitmqctl, as root.
CANNOT_CUT = (None if shutil.which("rabbitmqctl") is not None and os.geteuid() == 0
              else "needs rabbitmqctl on this machine (as root) to cut a connection")


def cut_connections(named: str) -> bool:
    """Have RabbitMQ close every connection whose client properties contain ``named``; whether there was one."""
    listed = subprocess.run(["rabbitmqctl", "-q", "list_connections", "pid", "client_properties"],
                            capture_output=True, text=True, timeout=60, check=True).stdout
    pids = [line.split("\t", 1)[0] for line in listed.splitlines() if named in line]
    for pid in pids:
        subprocess.run(["rabbitmqctl", "close_connection", pid, "test: connection cut"],
                       capture_output=True, timeout=60, check=True)
    return bool(pids)
