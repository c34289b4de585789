"""Latency histograms: fixed log-spaced buckets, exact counts, cheap to record.

A duration lands in the first bucket whose upper bound is not below it (`bisect_left`, one
C call over ~190 floats: 8 comparisons). Bounds grow by 2**(1/8) (about 9 %) from 10 µs to
about 3 minutes, so a percentile read from the buckets is within 9 % of the true value;
the counts themselves are exact, and histograms of several processes add up bucket by
bucket (the same bounds everywhere).
"""

from __future__ import annotations

from collections.abc import Sequence

#: Upper bounds of the buckets, in seconds; one more bucket holds what is above the last.
BOUNDS: tuple[float, ...] = tuple(10e-6 * 2 ** (i / 8) for i in range(8 * 24))

#: The bounds exposed to Prometheus (`le`): every 8th bound, doubling from 10 µs.
PROMETHEUS_BOUNDS_STEP = 8


def new_counts() -> list[int]:
    """Zeroed bucket counts for `BOUNDS` (plus the overflow bucket)."""
    return [0] * (len(BOUNDS) + 1)


def percentile(counts: Sequence[int], fraction: float) -> float | None:
    """The upper bound of the bucket holding the `fraction` quantile (None when empty).

    The overflow bucket reports the last bound.
    """
    total = sum(counts)
    if total == 0:
        return None
    rank = max(1, round(fraction * total + 0.5 - 1e-9))  # nearest-rank, 1-based
    seen = 0
    for index, count in enumerate(counts):
        seen += count
        if seen >= rank:
            return BOUNDS[min(index, len(BOUNDS) - 1)]
    return BOUNDS[-1]  # pragma: no cover - unreachable: seen reaches total


def cumulative_buckets(counts: Sequence[int]) -> list[tuple[str, int]]:
    """Prometheus `(le, cumulative count)` pairs for `counts`, ending with `+Inf`."""
    out: list[tuple[str, int]] = []
    running = 0
    step = PROMETHEUS_BOUNDS_STEP
    for index, count in enumerate(counts[:-1]):
        running += count
        if index % step == step - 1:
            out.append((repr(BOUNDS[index]), running))
    out.append(("+Inf", running + counts[-1]))
    return out
