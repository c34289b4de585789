"""The Host header check (ambi.http._host): hypothesis over what is valid and what is not,
and the property that matters: a valid host never changes what `request.url` says."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from hypothesis import given
from hypothesis import strategies as st

from ambi.http._host import _check, host_error, valid_host

LABEL = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_",
    min_size=1,
    max_size=20,
)
NAME = st.lists(LABEL, min_size=1, max_size=5).map(".".join)
IPV4 = st.ip_addresses(v=4).map(str)
IPV6 = st.ip_addresses(v=6).map(lambda ip: f"[{ip}]")
PORT = st.integers(1, 65535).map(lambda p: f":{p}")
HOST = st.tuples(st.one_of(NAME, IPV4, IPV6), st.one_of(st.just(""), PORT)).map("".join)

#: characters that let a Host value change the meaning of a URL built from it
BREAKERS = [*'?#/@ \\\t%"<>^`{|}', "\x00", "\r", "\n", "é", "\u3002"]


@given(HOST)
def test_names_addresses_and_ports_are_valid(host: str) -> None:
    assert _check(host)
    assert valid_host(host)
    assert host_error([host]) is None


@given(HOST)
def test_a_valid_host_keeps_the_url_in_its_parts(host: str) -> None:
    parts = urlsplit(f"http://{host}/p?q")
    assert parts.netloc == host
    assert parts.path == "/p"
    assert parts.query == "q"
    assert parts.port is None or 0 < parts.port <= 65535


@given(HOST, st.sampled_from(BREAKERS), st.data())
def test_a_character_that_breaks_urls_is_refused(host: str, bad: str, data: st.DataObject) -> None:
    at = data.draw(st.integers(0, len(host)))
    assert not _check(host[:at] + bad + host[at:])


@given(st.text(max_size=30))
def test_any_text_is_checked_without_error(value: str) -> None:
    ok = _check(value)
    if ok:  # then it is one of the accepted shapes
        parts = urlsplit(f"http://{value}/")
        assert parts.netloc == value
        assert parts.path == "/"
        parts.port  # noqa: B018  # a valid port: no ValueError


def test_examples() -> None:
    good = [
        "example.com",
        "Example.COM.",
        "a_b-c.internal:8080",
        "127.0.0.1:1",
        "[::1]:65535",
        "[2001:db8::1]",
        "localhost",
    ]
    bad = [
        "evil.example?a=",
        "a b",
        "user@evil",
        "x:0",
        "x:65536",
        "x:99999",
        "x:",
        "x:8o",
        "x:+80",
        "[::1",
        "[::g]",
        "[::1]x",
        "..",
        "a..b",
        ".a",
        "x:٨٠",
        "a" * 300,
    ]
    for host in good:
        assert valid_host(host), host
    for host in bad:
        assert not valid_host(host), host
    assert host_error(["a.example", "b.example"]) == "more than one Host header"
    assert host_error(["a?b"]) == "invalid Host header"
    assert host_error([]) is None  # HTTP/1.0, h2 (:authority): the URL uses the server
    assert host_error([""]) is None


def test_ipv6_literals_follow_ipaddress() -> None:
    for literal in ["::", "::ffff:1.2.3.4", "fe80::1"]:
        ipaddress.IPv6Address(literal)
        assert valid_host(f"[{literal}]")
