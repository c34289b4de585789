"""The `Host` header, checked before routing: one at most, and a host name (or IP address)
with an optional port, nothing else, so that `request.url` is built from a host and never
from whatever a client put there (`evil.example?a=`, `a@b`, spaces, `x:99999`).

RFC 9110 section 7.2: a server answers 400 to a request with more than one Host or an invalid
one. The accepted syntax is stricter than RFC 3986's reg-name (as Django's): letters,
digits, `-`, `_` and dots; or an IPv6 literal in brackets; then `:port` (1 to 65535).
"""

from __future__ import annotations

import ipaddress
import re

_NAME = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?")
_MAX_NAME = 253 + 1  # a full DNS name, and its root dot

#: Hosts seen valid: the usual request asks a set, not the parser (bounded: no growth
#: on a flood of distinct names).
KNOWN_HOSTS: set[str] = set()
_KNOWN_MAX = 512


def valid_host(host: str) -> bool:
    """Whether `host` (a Host header's value) is `name[:port]` or `[IPv6][:port]`."""
    if host in KNOWN_HOSTS:
        return True
    ok = _check(host)
    if ok and len(KNOWN_HOSTS) < _KNOWN_MAX:
        KNOWN_HOSTS.add(host)
    return ok


def _check(host: str) -> bool:
    if host.startswith("["):
        end = host.find("]")
        if end < 0 or "%" in host:  # no zone id (`fe80::1%eth0`) in a Host
            return False
        try:
            ipaddress.IPv6Address(host[1:end])
        except ValueError:
            return False
        rest = host[end + 1 :]
        return not rest or (rest[0] == ":" and _valid_port(rest[1:]))
    name, sep, port = host.partition(":")
    if sep and not _valid_port(port):
        return False
    return len(name) <= _MAX_NAME and _NAME.fullmatch(name) is not None


def _valid_port(port: str) -> bool:
    return 0 < len(port) <= 5 and port.isascii() and port.isdigit() and 0 < int(port) <= 65535


def request_host_error(
    raw_headers: list[tuple[str, str]], index: dict[str, str] | None
) -> str | None:
    """What is wrong with the Host headers among `raw_headers` (lower-case names), or None.
    `index` is `dict(raw_headers)` when no name comes twice, else None (the request's
    `_header_dict`).

    PERF: `dict()` over the pairs (which the adapters have already) is one C loop and
    tells at once whether any name comes twice; only then are the Host headers counted
    in Python. A host seen valid before is a set lookup. No second call into the server:
    on Granian 2.8.9, `scope.headers.get_all("host")` took ~240 ns, `dict(items)` with 4
    headers ~150 ns. (GET /json instruction counts: benchmarks/RESULTS.md, issue 8.)
    """
    if index is not None:  # no header name twice
        host = index.get("host")
        if host is None or host in KNOWN_HOSTS:
            return None
        return host_error([host])
    return host_error([value for name, value in raw_headers if name == "host"])


def host_error(hosts: list[str]) -> str | None:
    """What is wrong with a request's Host headers (all of them), or None."""
    if len(hosts) > 1:
        return "more than one Host header"
    if hosts and hosts[0] and not valid_host(hosts[0]):
        return "invalid Host header"
    return None
