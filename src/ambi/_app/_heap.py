"""The C heap's trim threshold: how much freed memory glibc keeps in a served process.

glibc's `free` gives the top of a heap back to the system (`brk`/`madvise`) as soon as more
than `M_TRIM_THRESHOLD` bytes of it are free (128 KiB to start with). A server reading
request bodies allocates and frees them in bursts: Granian hands a body over in chunks of
~400 KiB (a 100 MB upload: ~300 of them) and holds 200 concurrent 100 KB bodies at once,
each freed after its request. With the default threshold each burst's memory goes back to
the system and the next burst faults it in again, page by page.

`App.malloc_trim_threshold` (None: `DEFAULT_TRIM_THRESHOLD` when the app is served, on
glibc only; an int: that many bytes, wherever the app starts; False: glibc's own policy)
is applied once at startup with `mallopt`. It is process-wide: up to that many freed bytes
stay in each of the process's heaps (never more than its peak use) instead of going back
to the system at once; glibc also stops moving its mmap threshold (128 KiB), so blocks
over that are mapped and unmapped on their own, as glibc does before its first large free.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable

from ..exceptions import ConfigurationError

#: `App.malloc_trim_threshold` when None and the app is served (bytes).
#: PERF: on glibc, 72.9 -> 63.1 ms of server CPU per 100 MB upload and 187 -> 161 us per
#: 100 KB upload, 200 at once; peak RSS unchanged, 6-11 MiB more kept after the uploads
#: (benchmarks/bench_uploads.py's uploads; RESULTS.md, session 10, "uploads").
DEFAULT_TRIM_THRESHOLD = 64 * 1024 * 1024
#: glibc's `mallopt` parameter number (malloc.h).
_M_TRIM_THRESHOLD = -1
_INT_MAX = 2**31 - 1


def _load_mallopt() -> Callable[[int, int], int] | None:
    """glibc's `mallopt`, or None elsewhere (musl, macOS, Windows)."""
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return None
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError, ValueError):
        return None
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt


_mallopt = _load_mallopt()


def check_trim_threshold(value: object) -> int | bool | None:
    """`App.malloc_trim_threshold` checked: None, False, or bytes on glibc (at startup)."""
    if value is None or value is False:
        return value
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _INT_MAX:
        raise ConfigurationError(
            f"malloc_trim_threshold must be None, False or a number of bytes from 0 to "
            f"{_INT_MAX}, got {value!r}"
        )
    if _mallopt is None:
        raise ConfigurationError(
            "malloc_trim_threshold needs glibc (mallopt); set it to None or False here"
        )
    return value


def served_default() -> int | bool:
    """`App.malloc_trim_threshold` for a served app that left it None."""
    return DEFAULT_TRIM_THRESHOLD if _mallopt is not None else False


def apply_trim_threshold(value: object) -> None:
    """Set glibc's trim threshold to `value` bytes (None or False: leave it)."""
    size = check_trim_threshold(value)
    if size is None or size is False or _mallopt is None:
        return
    if _mallopt(_M_TRIM_THRESHOLD, size) != 1:  # pragma: no cover - glibc takes any int
        raise ConfigurationError(f"glibc refused malloc_trim_threshold={size}")
