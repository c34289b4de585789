"""Latency histograms: log buckets over integer nanoseconds, exact counts.

The bucket of a duration of `ns` nanoseconds comes from its bits alone (`bucket(ns)`): its
bit length and the 3 bits after the leading one, so each power of two is split in 8
buckets at most 12.5 % wide (HDR-histogram style). A percentile read from the buckets is
within 12.5 % of the true value; the counts themselves are exact, and histograms of
several processes add up bucket by bucket (the same buckets everywhere).

Requests do not bucket their own latency: the app's dispatch appends it (float seconds)
to a list, and `count_samples` puts a batch of them in their buckets later, when the
metrics are read and once a second (`RouteMetrics.fold`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

SUB_BITS = 3  # 8 buckets per power of two
SIZE = 64 << SUB_BITS  # every 64-bit duration in ns has a bucket


def bucket(ns: int) -> int:
    """The bucket of a duration of `ns` nanoseconds."""
    bits = ns.bit_length()
    return (bits << 3) | ((ns >> (bits - 4)) & 7) if bits > 4 else ns


def upper_bound(index: int) -> int:
    """The smallest duration (ns) above bucket `index`."""
    bits, sub = index >> SUB_BITS, index & 7
    if bits <= 4:
        return index + 1
    return (9 + sub) << (bits - 4)


#: the bounds as floats (exact: 4 significant bits), compared with seconds * 1e9
_UPPER = [float(upper_bound(index)) for index in range(SIZE)]
_TO_NS = (1e9).__mul__  # seconds -> nanoseconds (a float)


def count_samples(counts: list[int], samples: list[float]) -> None:
    """Add `samples` (durations in seconds, >= 0) to `counts`, each in the bucket of its
    whole nanoseconds, `bucket(int(seconds * 1e9))`. Sorts `samples` in place.

    # PERF: one sort (in C) and one bisection per bucket met, not a bucket computed per
    # sample in Python (benchmarks/RESULTS.md, "metrics off the request path").
    """
    samples.sort()
    end = len(samples)
    low = 0
    while low < end:
        index = bucket(int(samples[low] * 1e9))
        # the first sample past this bucket: int(x) >= bound <=> x >= bound (bound whole)
        high = bisect_left(samples, _UPPER[index], low, end, key=_TO_NS)
        counts[index] += high - low
        low = high


def new_counts() -> list[int]:
    """Zeroed bucket counts."""
    return [0] * SIZE


def percentile(counts: Sequence[int], fraction: float) -> float | None:
    """The upper bound, in seconds, of the bucket holding the `fraction` quantile (None when
    there is nothing counted)."""
    total = sum(counts)
    if total == 0:
        return None
    rank = max(1, round(fraction * total + 0.5 - 1e-9))  # nearest rank, 1-based
    seen = 0
    for index, count in enumerate(counts):
        seen += count
        if seen >= rank:
            return upper_bound(index) / 1e9
    raise AssertionError("unreachable: seen reaches total")  # pragma: no cover


#: Prometheus `le` bounds: powers of two from 2**13 ns (8.2 µs) to 2**38 ns (275 s).
_LE_BITS = range(13, 39)


def cumulative_buckets(counts: Sequence[int]) -> list[tuple[str, int]]:
    """Prometheus `(le, cumulative count)` pairs for `counts`, ending with `+Inf`."""
    out: list[tuple[str, int]] = []
    running = 0
    index = 0
    for bits in _LE_BITS:
        last = ((bits - 1) << SUB_BITS) | 7  # the bucket whose upper bound is 2**bits
        running += sum(counts[index : last + 1])
        index = last + 1
        out.append((repr((1 << bits) / 1e9), running))
    out.append(("+Inf", running + sum(counts[index:])))
    return out
