"""The pieces of a cached response: the canonical query, the stored form, ETag matching."""

from __future__ import annotations

import random
from urllib.parse import parse_qsl, quote, urlencode

from hypothesis import given
from hypothesis import strategies as st

from ambi.cache._entry import Entry, etag_for, etag_matches, normalise_query

_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
_pairs = st.lists(st.tuples(_text.filter(bool), _text), max_size=8)


def _by_name(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped


def _shuffle_keeping_repeats(pairs: list[tuple[str, str]], seed: int) -> list[tuple[str, str]]:
    """Another order of `pairs` in which each name's values keep their order."""
    names = [name for name, _ in pairs]
    random.Random(seed).shuffle(names)
    queues = {name: [v for n, v in pairs if n == name] for name in set(names)}
    return [(name, queues[name].pop(0)) for name in names]


@given(pairs=_pairs, seed=st.integers(), plus=st.booleans())
def test_the_canonical_query_ignores_order_but_keeps_meaning(
    pairs: list[tuple[str, str]], seed: int, plus: bool
) -> None:
    encode = {"quote_via": quote} if plus else {}
    query = urlencode(pairs, **encode)  # type: ignore[arg-type]
    other = urlencode(_shuffle_keeping_repeats(pairs, seed), **encode)  # type: ignore[arg-type]
    canonical = normalise_query(query)
    assert normalise_query(other) == canonical
    parsed = parse_qsl(canonical, keep_blank_values=True)
    assert _by_name(parsed) == _by_name(parse_qsl(query, keep_blank_values=True))


@given(first=_pairs, second=_pairs)
def test_queries_that_mean_different_things_differ(
    first: list[tuple[str, str]], second: list[tuple[str, str]]
) -> None:
    one, two = urlencode(first), urlencode(second)
    if _by_name(parse_qsl(one, keep_blank_values=True)) != _by_name(
        parse_qsl(two, keep_blank_values=True)
    ):
        assert normalise_query(one) != normalise_query(two)


def test_raw_queries_are_sorted_without_decoding() -> None:
    assert normalise_query("b=2&a=1&&c") == "a=1&b=2&c"
    assert normalise_query("t=2&t=1") == "t=2&t=1"
    assert normalise_query("a=%31&b=x+y") == normalise_query("b=x%20y&a=1")
    assert normalise_query("") == ""


@given(
    status=st.sampled_from([200, 203, 204]),
    headers=st.lists(st.tuples(st.sampled_from(["x-a", "content-type", "vary"]), _text)),
    body=st.binary(max_size=64),
    expires=st.floats(min_value=0, max_value=2e9),
)
def test_entries_survive_the_store(
    status: int, headers: list[tuple[str, str]], body: bytes, expires: float
) -> None:
    etag = etag_for(body)
    decoded = Entry.decode(Entry(status, headers, body + b"\n", etag, expires).encode())
    assert (decoded.status, decoded.headers, decoded.body) == (status, headers, body + b"\n")
    assert (decoded.etag, decoded.expires) == (etag, expires)


def test_etag_matching() -> None:
    etag = etag_for(b"x")
    assert etag_matches(etag, etag)
    assert etag_matches(f' "a", W/{etag} ', etag)
    assert etag_matches("*", etag)
    assert not etag_matches('"a", "b"', etag)
    assert not etag_matches("", etag)
    assert etag_for(b"x") != etag_for(b"y")
