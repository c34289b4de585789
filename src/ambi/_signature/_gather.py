"""A route's raw inputs gathered by one function written for the route at registration.

`HandlerPlan` reads every input of a route (its getters, chosen by `_sources`) into the
dict its model validates. Looping over the getters costs a loop step and a call per input
on every request; instead, the loop is unrolled once into a function of its own, in which
the simple reads (a path parameter, a query parameter, a header) are written inline, as
their getters would make them, and any other input calls its getter:

    def gather(request):
        raw = {}
        value = request.path_params.get('item_id', MISSING)
        if value is not MISSING:
            raw['p0'] = value
        query = request._query
        if query is None:
            query = request.query_params
        query = query._dict
        value = query.get('q', MISSING)
        ...
        return raw

PERF: GET /items/{item_id} and bench_realistic's mix (bench_instructions; RESULTS.md,
issue 15). The source is kept in `linecache` under `<ambi gather LABEL>`, so tracebacks
and debuggers show it.
"""

from __future__ import annotations

import itertools
import linecache
from collections.abc import Callable, Sequence
from typing import Any

from ..http import Request
from ._sources import MISSING, Getter, inline_read

Gather = Callable[[Request], dict[str, Any]]

_QUERY = [
    "    query = request._query",
    "    if query is None:",
    "        query = request.query_params",
    "    query = query._dict",
]
_serial = itertools.count()


def _read(index: int, get: Getter, namespace: dict[str, Any], lines: list[str]) -> None:
    """Append the lines that put the input's raw value (or MISSING) in `value`."""
    read = inline_read(get)
    if read is None:
        namespace[f"get{index}"] = get
        lines.append(f"    value = get{index}(request)")
        return
    source, key = read
    if source == "path":
        lines.append(f"    value = request.path_params.get({key!r}, MISSING)")
    elif source == "query":
        if "    query = query._dict" not in lines:
            lines.extend(_QUERY)
        lines.append(f"    value = query.get({key!r}, MISSING)")
    else:  # a header: `request._header` answers None for no header
        lines.append(f"    value = request._header({key!r})")
        lines.append("    if value is None:")
        lines.append("        value = MISSING")


def gatherer(getters: Sequence[tuple[str, Getter]], label: str) -> Gather:
    """The function that reads `getters` (model field, getter) from a request into a dict
    of the values found (an input not there is left out, as the getter's MISSING says)."""
    namespace: dict[str, Any] = {"MISSING": MISSING}
    lines = ["def gather(request):", "    raw = {}"]
    for index, (field, get) in enumerate(getters):
        _read(index, get, namespace, lines)
        lines.append("    if value is not MISSING:")
        lines.append(f"        raw[{field!r}] = value")
    lines.append("    return raw")
    source = "\n".join(lines) + "\n"
    filename = f"<ambi gather {label} #{next(_serial)}>"
    exec(compile(source, filename, "exec"), namespace)  # our own source, from the plan
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    gather: Gather = namespace["gather"]
    return gather
