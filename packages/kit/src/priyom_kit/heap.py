"""Give the memory start-up used and freed back to the system.

Start-up allocates far more than a service keeps: the JSON of the router's model parsed and packed into arrays,
the rule book compiled, hundreds of modules imported. glibc's allocator keeps the freed pages in the process
(RSS stays where the peak was) until something trims the heap; one ``malloc_trim(0)`` after the start returns
them, so an idle replica costs what it holds, not what it once needed. Elsewhere (musl, macOS) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc


def release_startup_garbage() -> None:
    """Collect what start-up left unreachable, then hand the heap's free pages back (glibc only)."""
    gc.collect()
    name = ctypes.util.find_library("c")
    if name is None:
        return
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None)
    if trim is not None:
        trim(0)
