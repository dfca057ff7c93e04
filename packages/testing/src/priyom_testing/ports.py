"""Free local ports for the servers the tests and benchmarks start, and waiting until one listens."""

from __future__ import annotations

import os
import random
import socket
import time
from pathlib import Path

#: How many ports below the kernel's ephemeral range the servers are given from.
BELOW_EPHEMERAL = 12_000


def _ephemeral_low() -> int:
    """Where the ports the kernel hands to outgoing connections start (Linux; 32768 elsewhere)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


#: Ports this process handed out: never handed out again by it (a service killed and started again on its own
#: port must find it free), until most of its share has been used.
_handed_out: set[int] = set()


def _share(low: int) -> range:
    """The ports below the ephemeral range this process picks from: under ``pytest -n`` each worker its own
    slice, so two workers never hand out the same port (two stacks' services did, seen in CI: the second's bind
    failed, and the first answered the second's health checks); elsewhere the whole range."""
    start = max(1024, low - BELOW_EPHEMERAL)
    worker, count = os.environ.get("PYTEST_XDIST_WORKER", ""), os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    if worker.startswith("gw") and worker[2:].isdigit() and count.isdigit() and int(count) > 1:
        width = (low - start) // int(count)
        first = start + int(worker[2:]) % int(count) * width
        return range(first, first + width)
    return range(start, low)


def free_port() -> int:
    """A TCP port nothing listens on now, on 127.0.0.1, for a server started next.

    Taken below the kernel's ephemeral range: a port the kernel picks (``bind(0)``) is one it also gives to
    outgoing connections, and under load one of the tests' own connections took it between this call and the
    server's bind ("address already in use", seen in CI). From this process's share (:func:`_share`), at random
    and never one it handed out before; the kernel's pick only if nothing there is free."""
    share = _share(_ephemeral_low())
    if sum(1 for port in _handed_out if port in share) > len(share) * 3 // 4:
        _handed_out.difference_update(share)
    for _ in range(100):
        port = random.choice(share)
        if port not in _handed_out and _bindable(port):
            _handed_out.add(port)
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0) -> None:
    """Return once something listens on ``port`` of 127.0.0.1; ``TimeoutError`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")
