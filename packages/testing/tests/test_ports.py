"""The ports the tests' servers are given: never one the kernel may hand to an outgoing connection meanwhile."""

from __future__ import annotations

import socket

from priyom_testing.ports import _ephemeral_low, _share, free_port


def test_a_free_port_is_below_the_ephemeral_range_and_bindable() -> None:
    low = _ephemeral_low()
    ports = {free_port() for _ in range(20)}
    assert all(1024 <= port < low for port in ports), sorted(ports)
    assert len(ports) > 1, "random: parallel workers rarely pick the same"
    with socket.socket() as server:
        server.bind(("127.0.0.1", ports.pop()))
        server.listen()



def test_workers_pick_from_shares_that_do_not_overlap(monkeypatch) -> None:  # noqa: ANN001
    """Two workers never hand out the same port (two stacks' services once did: the second's bind failed and
    the first answered its health checks)."""
    low = _ephemeral_low()
    shares = []
    for worker in ("gw0", "gw1", "gw2", "gw3"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "4")
        shares.append(set(_share(low)))
    assert all(len(share) >= 2_000 for share in shares)
    assert sum(len(share) for share in shares) == len(set().union(*shares))
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw2")
    assert {free_port() for _ in range(50)} <= shares[2]


def test_a_port_handed_out_is_not_handed_out_again_by_the_same_process(monkeypatch) -> None:  # noqa: ANN001
    """A service killed and started again finds its port: nothing this process started meanwhile was given it."""
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "40")  # a share of ~300 ports: repeats would show
    picked = [free_port() for _ in range(200)]
    assert len(set(picked)) == len(picked)
