"""The heap after start (``priyom_kit.heap``): freed memory goes back to the system (glibc keeps it in the
process until the heap is trimmed), and what start-up built is out of the collector's walks."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import pytest

from priyom_kit.heap import YOUNG_OBJECTS, settle_after_start


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
    try:
        settle_after_start()
    finally:
        gc.unfreeze()  # the rest of this test process is no service
    after = _rss_mb()
    assert kept
    assert before - after > 100, f"RSS {before:.0f} MB -> {after:.0f} MB"


def test_what_start_up_built_is_no_longer_walked_by_the_collector() -> None:
    kept = [[i] for i in range(50_000)]  # tracked containers, as a start-up leaves hundreds of thousands
    try:
        settle_after_start()
        assert gc.get_freeze_count() >= len(kept)
        walked = {id(obj) for generation in range(3) for obj in gc.get_objects(generation=generation)}
        assert gc.is_tracked(kept[0]) and id(kept[0]) not in walked
    finally:
        gc.unfreeze()


def test_the_young_generation_is_collected_after_a_batch_s_worth_of_objects_not_700() -> None:
    before = gc.get_threshold()
    try:
        settle_after_start()
        assert gc.get_threshold() == (YOUNG_OBJECTS, 10, 10)
        gc.collect()
        # A batch's objects in flight (here 5,000 tracked ones) are not walked while they are in use.
        collections = gc.get_stats()[0]["collections"]
        in_flight = [[i] for i in range(5_000)]
        assert gc.get_stats()[0]["collections"] == collections
        assert in_flight
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
