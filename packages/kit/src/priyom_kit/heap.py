"""The heap after start: what start-up built kept out of the collector's way, what it freed given back.

Start-up allocates far more than a service keeps (hundreds of modules imported, the router's model parsed and
packed into arrays, the rule book compiled), and what it keeps is hundreds of thousands of objects that live as
long as the process. Two things follow, and :func:`settle_after_start` answers both once the service has
started:

- Every full collection of the cyclic garbage collector walks all tracked objects. Under a burst of deliveries,
  more of what the handlers allocate survives a young collection, full collections come more often, and each
  one walks the whole start-up heap again. ``gc.freeze()`` moves everything alive at that moment to a permanent
  generation the collector no longer walks, so a collection costs what the service made since.
- glibc's allocator keeps freed pages in the process (RSS stays at the start-up peak) until the heap is
  trimmed; one ``malloc_trim(0)`` returns them, so an idle replica costs what it holds. Elsewhere (musl,
  macOS) there is no such call, and nothing is done.

Then the collector's pace. CPython collects the young generation whenever 700 more tracked objects are alive
than at the last collection. A batch of deliveries in flight holds thousands (events, rows, futures, the
records of its statements), so a young collection came every few deliveries, walked the batch's objects while
they were still in use, and moved them to the older generations, which then filled and were walked in turn:
5.4-6.7% of identity's, the router's and tickets' CPU at saturation went to the collector (``bench/e2e.py``, time
in ``gc.callbacks``). Collecting the young generation every :data:`YOUNG_OBJECTS` instead, and the older
ones every 10 collections of the one below, lets a batch's objects die by reference counting before any walk:
2.6-3.2% (a pause of about 4 ms a young collection under that load, 25 ms at 50,000).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc

#: Tracked objects alive beyond the last young collection that start the next one (CPython's default: 700).
YOUNG_OBJECTS = 10_000


def settle_after_start() -> None:
    """Collect what start-up left unreachable, freeze what it keeps, set the collector's pace, hand the
    freed pages back (glibc)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS, 10, 10)
    name = ctypes.util.find_library("c")
    if name is None:
        return
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None)
    if trim is not None:
        trim(0)
