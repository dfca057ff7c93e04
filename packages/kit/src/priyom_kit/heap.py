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
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc


def settle_after_start() -> None:
    """Collect what start-up left unreachable, freeze what it keeps, hand the freed pages back (glibc)."""
    gc.collect()
    gc.freeze()
    name = ctypes.util.find_library("c")
    if name is None:
        return
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None)
    if trim is not None:
        trim(0)
