"""A cached HTTP response: its bytes in a store, ETag, 304, and the response it becomes."""

from __future__ import annotations

import hashlib
import time
from urllib.parse import parse_qsl, quote, urlencode

import orjson

from ..http import MutableHeaders, Response

#: Statuses of responses stored: the successful ones a GET gives for a resource.
CACHEABLE_STATUS = frozenset({200, 203, 204})

_new_response = Response.__new__


class Entry:
    """A response as stored: status, headers (with ETag and Vary), body, expiry (epoch s)."""

    __slots__ = ("_control", "body", "etag", "expires", "headers", "own_control", "status")

    def __init__(
        self, status: int, headers: list[tuple[str, str]], body: bytes, etag: str, expires: float
    ) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.etag = etag
        self.expires = expires
        #: the handler set Cache-Control itself: it is kept, none is added
        self.own_control = any(k == "cache-control" for k, _ in headers)
        self._control: tuple[int, str] = (0, "")

    def control(self, max_age: int | None, private: bool) -> str | None:
        """The `Cache-Control` to add: `max-age` is `max_age` when given, else the seconds
        the entry has left."""
        if self.own_control:
            return None
        now = int(time.time())
        second, text = self._control
        if second != now:
            # PERF: one string per entry per second, not per hit (bench_cache.py).
            left = max(0, int(self.expires - now)) if max_age is None else max_age
            text = f"private, max-age={left}" if private else f"max-age={left}"
            self._control = (now, text)
        return text

    def encode(self) -> bytes:
        """`[status, expires, etag, [name, value, ...]]` as JSON, a newline, the body (JSON
        has no raw newline, so the first one ends the head)."""
        flat = [part for pair in self.headers for part in pair]
        return orjson.dumps([self.status, self.expires, self.etag, flat]) + b"\n" + self.body

    @classmethod
    def decode(cls, raw: bytes) -> Entry:
        end = raw.index(b"\n")
        status, expires, etag, flat = orjson.loads(raw[:end])
        return cls(
            status, list(zip(flat[::2], flat[1::2], strict=True)), raw[end + 1 :], etag, expires
        )


def etag_for(body: bytes) -> str:
    """A strong ETag from the body's hash."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Whether an `If-None-Match` header matches `etag` (weak comparison, RFC 9110 13.1.2)."""
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in if_none_match.split(","))


def normalise_query(query: str) -> str:
    """The query string in one canonical form: parameters ordered by name (repeats keep
    their order, which handlers see), so `b=2&a=1` and `a=1&b=2` are one entry."""
    if not query:
        return ""
    if "%" not in query and "+" not in query:
        # PERF: nothing escaped: the raw names are the names; sort without decoding.
        pairs = [pair for pair in query.split("&") if pair]
        if len(pairs) < 2:
            return pairs[0] if pairs else ""
        pairs.sort(key=lambda pair: pair.partition("=")[0])
        return "&".join(pairs)
    decoded = parse_qsl(query, keep_blank_values=True)
    decoded.sort(key=lambda pair: pair[0])
    return urlencode(decoded, quote_via=quote)


def response_of(entry: Entry, control: str | None) -> Response:
    """A fresh response for a stored entry (never shared: later steps may add headers)."""
    response = _new_response(Response)
    response.status_code = entry.status
    response.body = entry.body
    headers = MutableHeaders(entry.headers)
    if control is not None:
        headers.items_list.append(("cache-control", control))
    response.headers = headers
    return response


def not_modified(entry: Entry, control: str | None) -> Response:
    """`304 Not Modified` for `entry`, with the headers a 304 must repeat."""
    kept = [(k, v) for k, v in entry.headers if k in ("etag", "vary", "cache-control")]
    if control is not None:
        kept.append(("cache-control", control))
    response = _new_response(Response)
    response.status_code = 304
    response.body = b""
    response.headers = MutableHeaders(kept)
    return response
