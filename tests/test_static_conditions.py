"""The header parsers behind static files: Range, If-Range, If-None-Match,
If-Modified-Since, Accept-Encoding."""

from __future__ import annotations

import itertools
from email.utils import formatdate

from hypothesis import given
from hypothesis import strategies as st

from ambi.static._conditions import (
    MAX_RANGES,
    accepted_encodings,
    http_date_seconds,
    if_range_holds,
    none_match,
    parse_range,
)

# Range --------------------------------------------------------------------------------------

positions = st.integers(min_value=0, max_value=300)
specs = st.one_of(
    st.tuples(positions, positions).map(lambda p: (min(p), max(p))),  # first-last
    st.tuples(positions, st.none()),  # first-
    st.tuples(st.none(), positions),  # -suffix
)


def _text(spec: tuple[int | None, int | None]) -> str:
    first, last = spec
    return f"{'' if first is None else first}-{'' if last is None else last}"


def _covered(spec: tuple[int | None, int | None], size: int) -> set[int]:
    """The byte offsets one spec asks for, by RFC 9110 14.1.2, read plainly."""
    first, last = spec
    if first is None:
        assert last is not None
        return set(range(max(size - last, 0), size)) if last else set()
    end = size if last is None else min(last + 1, size)
    return set(range(first, end))


@given(st.lists(specs, min_size=1, max_size=8), st.integers(min_value=0, max_value=250))
def test_parse_range_covers_what_was_asked(
    requested: list[tuple[int | None, int | None]], size: int
) -> None:
    header = "bytes=" + ", ".join(_text(spec) for spec in requested)
    ranges = parse_range(header, size)
    assert ranges is not None
    expected = set().union(*(_covered(spec, size) for spec in requested))
    got: set[int] = set()
    for start, end in ranges:
        assert 0 <= start < end <= size
        got.update(range(start, end))
    assert got == expected
    # sorted, and merged: no two ranges touch
    assert all(a[1] < b[0] for a, b in itertools.pairwise(ranges))


@given(st.text(max_size=40), st.integers(min_value=0, max_value=1000))
def test_parse_range_never_fails(header: str, size: int) -> None:
    ranges = parse_range(header, size)
    assert ranges is None or all(0 <= s < e <= size for s, e in ranges)
    ranges = parse_range("bytes=" + header, size)
    assert ranges is None or all(0 <= s < e <= size for s, e in ranges)


def test_parse_range_examples() -> None:
    assert parse_range("bytes=0-0", 10) == [(0, 1)]
    assert parse_range("BYTES = 2-4", 10) == [(2, 5)]
    assert parse_range("bytes=0-4,5-9", 10) == [(0, 10)]  # adjacent ranges merge
    assert parse_range("bytes=0-1,,3-4", 10) == [(0, 2), (3, 5)]  # empty elements skipped
    assert parse_range("bytes=20-", 10) == []  # valid, outside the file: 416
    assert parse_range("bytes=-5", 0) == []
    assert parse_range("bytes=5-2", 10) is None  # invalid: ignored
    assert parse_range("bytes=+1-2", 10) is None
    assert parse_range("bytes=\u0661-\u0662", 10) is None  # Arabic-Indic digits
    assert parse_range("bytes=" + "9" * 30 + "-", 10) is None
    assert parse_range("bytes=" + ",".join(["0-0"] * (MAX_RANGES + 1)), 10) is None
    assert parse_range("bytes=" + ",".join(["0-0"] * MAX_RANGES), 10) == [(0, 1)]


# Validators -------------------------------------------------------------------------------


def test_none_match() -> None:
    assert none_match('"a"', '"a"')
    assert none_match('W/"a"', '"a"')
    assert none_match(' "x" , W/"a" ', '"a"')
    assert none_match("*", '"a"')
    assert not none_match('"b"', '"a"')
    assert not none_match("", '"a"')


def test_if_range() -> None:
    assert if_range_holds('"a"', '"a"', 0)
    assert not if_range_holds('W/"a"', '"a"', 0)
    assert not if_range_holds('"b"', '"a"', 0)
    assert if_range_holds(formatdate(1000, usegmt=True), '"a"', 1000)
    assert not if_range_holds(formatdate(999, usegmt=True), '"a"', 1000)
    assert not if_range_holds("garbage", '"a"', 1000)


@given(st.integers(min_value=0, max_value=2**33))
def test_http_date_round_trip(seconds: int) -> None:
    assert http_date_seconds(formatdate(seconds, usegmt=True)) == seconds


@given(st.text(max_size=40))
def test_http_date_never_fails(text: str) -> None:
    http_date_seconds(text)


def test_http_date_needs_a_zone() -> None:
    assert http_date_seconds("Mon, 01 Jan 2024 00:00:00") is None


# Accept-Encoding ----------------------------------------------------------------------------


def test_accepted_encodings() -> None:
    assert accepted_encodings("gzip, deflate, br, zstd") == ["br", "gzip"]
    assert accepted_encodings("gzip;q=1.0, br;q=0.8") == ["gzip", "br"]
    assert accepted_encodings("x-gzip") == ["gzip"]
    assert accepted_encodings("BR") == ["br"]
    assert accepted_encodings("*") == ["br", "gzip"]
    assert accepted_encodings("*, br;q=0") == ["gzip"]
    assert accepted_encodings("gzip;q=oops") == []
    assert accepted_encodings("identity") == []
    assert accepted_encodings("") == []


@given(st.text(max_size=60))
def test_accepted_encodings_never_fails(header: str) -> None:
    assert set(accepted_encodings(header)) <= {"br", "gzip"}
