"""The ports the tests' servers are given: never one the kernel may hand to an outgoing connection meanwhile."""

from __future__ import annotations

import socket

from priyom_testing.ports import _ephemeral_low, free_port


def test_a_free_port_is_below_the_ephemeral_range_and_bindable() -> None:
    low = _ephemeral_low()
    ports = {free_port() for _ in range(20)}
    assert all(1024 <= port < low for port in ports), sorted(ports)
    assert len(ports) > 1, "random: parallel workers rarely pick the same"
    with socket.socket() as server:
        server.bind(("127.0.0.1", ports.pop()))
        server.listen()

