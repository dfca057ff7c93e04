"""pymorphy3's dictionary mapped from its files rather than copied into the process.

DAWG2-Python reads each DAWG of the dictionary (the words, the prediction suffixes, the tag probabilities:
15 MB of the router's 20 for morphology) into an ``array`` with ``fromfile``: private memory in every router
process, all of it resident from the start although a support mailbox's few thousand words touch a small
part. Mapped instead (``mmap``, read-only), the same numbers are the page cache's: a router's idle memory
holds only the pages looked at, router replicas on one host share them, and the kernel can drop them under
pressure and read them again.

The mapping replaces ``Dictionary.read`` and ``Guide.read`` only while :func:`mapped` is active (around the
analyzer's construction): what they store, ``_units``, is only ever indexed and measured (``[i]``, ``len``),
which a ``memoryview`` cast to the same item format answers alike. ``test_morphology.py`` pins that every
lemma the tests use is the same mapped as read.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from dawg_python import wrapper


class _Mappings:
    """The files mapped while :func:`mapped` is active, each once: a DAWG file holds a dictionary and its guide,
    and two mappings of one file would count its pages twice in the process's memory."""

    def __init__(self) -> None:
        self._maps: dict[tuple[int, int], mmap.mmap] = {}

    def view(self, fp: BinaryIO, count: int, item_format: str) -> memoryview:
        """``count`` items of ``item_format`` from ``fp``'s position, mapped; ``fp`` moves past them as a read would."""
        status = os.fstat(fp.fileno())
        mapping = self._maps.get((status.st_dev, status.st_ino))
        if mapping is None:
            # The mapping outlives the file's closing (mmap holds its own descriptor) and lives as long as a view.
            mapping = self._maps[status.st_dev, status.st_ino] = mmap.mmap(fp.fileno(), 0, access=mmap.ACCESS_READ)
            # A look-up touches a few scattered pages: no read-ahead, which would bring in their neighbours too.
            mapping.madvise(mmap.MADV_RANDOM)
        start = fp.tell()
        end = start + count * struct.calcsize(item_format)
        if end > len(mapping):
            raise ValueError(f"{getattr(fp, 'name', 'DAWG')}: {count} units announced, the file is shorter")
        fp.seek(end)
        return memoryview(mapping)[start:end].cast(item_format)


@contextmanager
def mapped() -> Iterator[None]:
    """While active, DAWGs loaded from files are mapped, not read (see the module's docstring)."""
    mappings = _Mappings()

    def read_dictionary(self: wrapper.Dictionary, fp: BinaryIO) -> None:
        base_size = struct.unpack("=I", fp.read(4))[0]
        self._units = mappings.view(fp, base_size, "I")  # type: ignore[assignment]  # noqa: SLF001 - its own store

    def read_guide(self: wrapper.Guide, fp: BinaryIO) -> None:
        base_size = struct.unpack("=I", fp.read(4))[0]
        self._units = mappings.view(fp, base_size * 2, "B")  # type: ignore[assignment]  # noqa: SLF001

    reads = wrapper.Dictionary.read, wrapper.Guide.read
    wrapper.Dictionary.read, wrapper.Guide.read = read_dictionary, read_guide  # type: ignore[method-assign]
    try:
        yield
    finally:
        wrapper.Dictionary.read, wrapper.Guide.read = reads  # type: ignore[method-assign]
