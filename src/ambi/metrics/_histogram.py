"""Latency histograms: log buckets over integer nanoseconds, exact counts, cheap to record.

The bucket of a duration of `ns` nanoseconds comes from its bits alone (`bucket(ns)`): its
bit length and the 3 bits after the leading one, so each power of two is split in 8
buckets at most 12.5 % wide (HDR-histogram style). A percentile read from the buckets is
within 12.5 % of the true value; the counts themselves are exact, and histograms of
several processes add up bucket by bucket (the same buckets everywhere).

# PERF: a few integer operations instead of a `bisect` over ~190 float bounds (8 rich
# comparisons); in callgrind the whole metrics stage went from +5,503 to +5,274
# instructions per GET /json (benchmarks/RESULTS.md, "metrics stage").
"""

from __future__ import annotations

from collections.abc import Sequence

SUB_BITS = 3  # 8 buckets per power of two
SIZE = 64 << SUB_BITS  # every 64-bit duration in ns has a bucket


def bucket(ns: int) -> int:
    """The bucket of a duration of `ns` nanoseconds (what the route stage inlines)."""
    bits = ns.bit_length()
    return (bits << 3) | ((ns >> (bits - 4)) & 7) if bits > 4 else ns


#: `bucket(ns)` by `ns >> FAST_SHIFT`, for 2**13 ns (8 µs, where buckets become at least
#: 2**FAST_SHIFT ns wide: exact) up to FAST_LIMIT << FAST_SHIFT ns (~16.8 ms).
# PERF: one tuple lookup instead of bit_length() and five integer operations for most
# request latencies (bench_instructions "GET /json, metrics on"; 128 KiB, made once).
FAST_SHIFT = 10
FAST_LIMIT = 1 << 14
FAST_BUCKETS: tuple[int, ...] = tuple(bucket(group << FAST_SHIFT) for group in range(FAST_LIMIT))
FAST_FROM = 8  # groups below: narrower buckets than a group, computed


def upper_bound(index: int) -> int:
    """The smallest duration (ns) above bucket `index`."""
    bits, sub = index >> SUB_BITS, index & 7
    if bits <= 4:
        return index + 1
    return (9 + sub) << (bits - 4)


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
