"""Header work the layers do on every request, done with as little as possible.

# PERF: a response's `MutableHeaders` rebuilds its list on `headers[name] = value` and its
# index on the next `get`; the layers add names a response rarely has, so they look
# through the short list once and append (CORS + request id + security headers on /json:
# 116.9k -> see benchmarks/RESULTS.md, bench_instructions.py).
"""

from __future__ import annotations

from ..http import MutableHeaders, Request


def request_header(request: Request, name: str) -> str | None:
    """The first value of request header `name` (lower-case), read from the raw list: no
    index is built for a layer that reads one or two names."""
    for key, value in request.raw_headers:
        if key == name:
            return value
    return None


def set_header(headers: MutableHeaders, name: str, value: str) -> None:
    """`headers[name] = value`, appending when the name is absent (the usual case)."""
    for key, _ in headers.items_list:
        if key == name:
            headers[name] = value
            return
    headers.add(name, value)


def add_missing(headers: MutableHeaders, pairs: list[tuple[str, str]]) -> None:
    """Add each header of `pairs` the response does not already have."""
    present = [key for key, _ in headers.items_list]
    for name, value in pairs:
        if name not in present:
            headers.add(name, value)


def add_vary(headers: MutableHeaders, value: str) -> None:
    """Add `value` to the `Vary` header (once; `*` covers everything)."""
    for key, current in headers.items_list:
        if key == "vary":
            names = {part.strip().lower() for part in current.split(",")}
            if value.lower() not in names and "*" not in names:
                headers["vary"] = f"{current}, {value}"
            return
    headers.add("vary", value)
