"""Start-up's freed memory goes back to the system (glibc keeps it in the process until the heap is trimmed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from priyom_kit.heap import release_startup_garbage


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and needs glibc's malloc_trim")
def test_memory_freed_below_a_live_allocation_is_returned() -> None:
    # 2,000-byte objects come from malloc's heap (Python's own allocator takes only up to 512 bytes); the one
    # allocated last stays alive, so the freed pages below it stay in the process until the heap is trimmed.
    chunks = [bytes(2000) for _ in range(100_000)]
    kept = bytes(2000)
    del chunks
    before = _rss_mb()
    release_startup_garbage()
    after = _rss_mb()
    assert kept
    assert before - after > 100, f"RSS {before:.0f} MB -> {after:.0f} MB"
