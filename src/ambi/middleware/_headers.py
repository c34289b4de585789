"""Header work the layers do on every request, done with as little as possible.

# PERF: a response's `MutableHeaders` rebuilds its list on `headers[name] = value` and its
# index on the next `get`; the layers add names a response rarely has, so they look
# through the short list once and append them all in one call. CORS + request id +
# security headers on /json, instructions per request over the plain app: +47.4k with
# `headers[...] =` / `get`, then see benchmarks/RESULTS.md (bench_instructions.py).
"""

from __future__ import annotations

from ..http import MutableHeaders, Request


def request_header(request: Request, name: str) -> str | None:
    """The first value of request header `name` (lower-case), read from the request's
    dict of its pairs when no name repeats, else from the raw list: no index is built for
    a layer that reads one or two names (PERF: a dict lookup rather than a scan; CORS +
    request id in bench_realistic's mix)."""
    index = request._header_dict
    if index is not None:
        return index.get(name)
    for key, value in request.raw_headers:
        if key == name:
            return value
    return None


def put_headers(
    headers: MutableHeaders,
    pairs: list[tuple[str, str]],
    names: frozenset[str],
    *,
    replace: bool = True,
) -> None:
    """Add `pairs` (lower-case names; `names` is the set of them) to the response.

    A name the response has already is replaced (`replace=True`) or left as it is;
    `vary` is merged. The usual case, none of them there, is one scan and one append.
    """
    if headers.extend_absent(pairs, names):
        return
    clash = {key for key, _ in headers.items_list if key in names}
    for name, value in pairs:
        if name not in clash:
            headers.add(name, value)
        elif name == "vary":
            add_vary(headers, value)
        elif replace:
            headers[name] = value


def add_vary(headers: MutableHeaders, value: str) -> None:
    """Add `value` to the `Vary` header (once; `*` covers everything)."""
    for key, current in headers.items_list:
        if key == "vary":
            names = {part.strip().lower() for part in current.split(",")}
            if value.lower() not in names and "*" not in names:
                headers["vary"] = f"{current}, {value}"
            return
    headers.add("vary", value)
