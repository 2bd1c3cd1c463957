"""The extracting process's memory between dlt's steps: what one step freed goes back to the system
before the next one allocates.

Extract, normalize and load run in one process and allocate through three allocators: Python's
(glibc malloc underneath), pyarrow's pool (normalize writes parquet) and DuckDB's own (load). Memory
freed in one is of no use to the next, yet glibc and pyarrow keep it mapped: a large organization's
run peaked at the load with the extract's and the normalize's leftovers still resident under it.
So between the steps `give_back` returns the free memory (`malloc_trim`, pyarrow's
`release_unused`), and `fewer_malloc_arenas` keeps glibc from giving each of the extract's worker
threads an arena of its own (with 48 threads, many partly used heaps that neither shrink nor serve
another thread). Both are no-ops where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import platform
import sys

M_ARENA_MAX = -8  # mallopt parameter (malloc.h)
MALLOC_ARENAS = 2


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def fewer_malloc_arenas(arenas: int = MALLOC_ARENAS) -> None:
    """Cap glibc's malloc arenas (as MALLOC_ARENA_MAX would), unless the user set MALLOC_ARENA_MAX;
    effective for threads that have not allocated yet, so call it before the extract starts its workers."""
    libc = _glibc()
    if libc is not None and "MALLOC_ARENA_MAX" not in os.environ:
        libc.mallopt(M_ARENA_MAX, arenas)


def give_back() -> None:
    """Hand the free memory of Python's heap and of pyarrow's pool back to the system. No `gc.collect`: on the
    large organization it freed 4 MiB of the extract's 442 (its garbage goes by reference counting), and it
    costs tens of milliseconds a call in a process that holds much (a test session)."""
    if "pyarrow" in sys.modules:
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def between_steps(pipeline) -> None:
    """Make `pipeline.run` give memory back before its normalize and its load step (and `give_back` after
    the run): the steps stay dlt's own, called by `run` as before."""
    for step in ("normalize", "load"):
        method = getattr(pipeline, step)

        def stepped(*args, _method=method, **kwargs):
            give_back()
            return _method(*args, **kwargs)

        setattr(pipeline, step, stepped)
