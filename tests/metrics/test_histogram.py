"""Latencies appended by requests are counted later, in batches (`count_samples`): each in
the bucket `bucket()` gives its whole nanoseconds, none lost, none counted twice."""

from __future__ import annotations

import threading

from hypothesis import given
from hypothesis import strategies as st

from ambi.metrics._histogram import bucket, count_samples, new_counts, upper_bound
from ambi.metrics._route import RouteMetrics

seconds = st.floats(min_value=0.0, max_value=1e5, allow_nan=False, allow_infinity=False)


@given(st.lists(seconds, max_size=300))
def test_a_batch_counts_each_sample_in_its_bucket(samples: list[float]) -> None:
    expected = new_counts()
    for s in samples:
        expected[bucket(int(s * 1e9))] += 1
    counts = new_counts()
    count_samples(counts, list(samples))
    assert counts == expected


@given(st.integers(min_value=1, max_value=2**46).flatmap(lambda i: st.sampled_from([i - 1, i])))
def test_samples_on_a_bucket_bound_fall_on_its_side(ns: int) -> None:
    # whole nanoseconds next to every bound, as floats: the bisection agrees with bucket()
    bound = upper_bound(bucket(ns))
    samples = [ns / 1e9, bound / 1e9, (bound - 1) / 1e9]
    expected = new_counts()
    for s in samples:
        expected[bucket(int(s * 1e9))] += 1
    counts = new_counts()
    count_samples(counts, samples)
    assert counts == expected


def test_a_route_folds_by_status_class_and_sums() -> None:
    metrics = RouteMetrics("GET", "/x")
    metrics.by_code[200].append(0.001)
    metrics.by_code[204].append(0.003)
    metrics.by_code[404].append(0.002)
    metrics.record_status(1200, 0.5)  # outside 100-599: counted, in no class shown
    metrics.fold()
    assert metrics.status == [1, 0, 2, 0, 1, 0]
    assert metrics.pending == [[]] * 6
    assert abs(metrics.latency_sum - 0.506) < 1e-12
    snapshot = metrics.snapshot(in_flight=0)
    assert snapshot["requests"] == 4
    assert snapshot["responses"] == {"1xx": 0, "2xx": 2, "3xx": 0, "4xx": 1, "5xx": 0}
    metrics.fold()  # nothing new: nothing counted twice
    assert sum(metrics.status) == 4


def test_appends_during_folds_are_all_counted_once() -> None:
    metrics = RouteMetrics("GET", "/x")
    record = metrics.by_code[200].append
    total = 200_000
    done = threading.Event()

    def fold_until_done() -> None:
        while not done.is_set():
            metrics.fold()

    folder = threading.Thread(target=fold_until_done)
    folder.start()
    try:
        for _ in range(total):
            record(0.001)
    finally:
        done.set()
        folder.join()
    metrics.fold()
    assert metrics.status[2] == total
    assert abs(metrics.latency_sum - total * 0.001) < 1e-6
