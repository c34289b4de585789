"""The table the app's dispatch buckets most latencies with gives `bucket(ns)` exactly."""

from hypothesis import given
from hypothesis import strategies as st

from ambi.metrics._histogram import FAST_BUCKETS, FAST_FROM, FAST_LIMIT, FAST_SHIFT, bucket


@given(st.integers(min_value=FAST_FROM << FAST_SHIFT, max_value=(FAST_LIMIT << FAST_SHIFT) - 1))
def test_the_fast_table_is_the_bucket_function(ns: int) -> None:
    assert FAST_BUCKETS[ns >> FAST_SHIFT] == bucket(ns)


def test_the_fast_table_covers_every_bucket_boundary_in_its_range() -> None:
    for group in range(FAST_FROM, FAST_LIMIT):
        low, high = group << FAST_SHIFT, ((group + 1) << FAST_SHIFT) - 1
        assert bucket(low) == bucket(high) == FAST_BUCKETS[group]
