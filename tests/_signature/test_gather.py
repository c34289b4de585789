"""The function written per route to gather its raw inputs reads what its getters read."""

from __future__ import annotations

import linecache
from typing import Any

import pytest

from ambi import App, Cookie, Header, Query, Request
from ambi._signature import compile_plan
from ambi._signature._sources import MISSING
from ambi.routing import CONVERTERS


def handler(  # noqa: PLR0917 - one parameter of each kind
    item_id: int,
    name: str,
    q: str | None = None,
    limit: int = 10,
    tags: list[str] = Query([]),
    x_token: str | None = Header(None),
    accept: list[str] = Header([]),
    session: str | None = Cookie(None),
) -> None: ...


def _looped(getters: Any, request: Request) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for field, get in getters:
        value = get(request)
        if value is not MISSING:
            raw[field] = value
    return raw


REQUESTS = [
    ("q=a&limit=3&tags=x&tags=y", [("x-token", "t"), ("cookie", "session=s")]),
    ("", []),
    ("limit=&q=%20b", [("x-token", "a"), ("x-token", "b"), ("accept", "1"), ("accept", "2")]),
    ("tags=", [("host", "h"), ("accept", "text/html")]),
]


@pytest.mark.parametrize(("query", "headers"), REQUESTS)
def test_gather_reads_what_the_getters_read(query: str, headers: list[tuple[str, str]]) -> None:
    plan = compile_plan(handler, {"item_id": CONVERTERS["int"], "name": CONVERTERS["str"]})
    request = Request(App(), "GET", "/items/7/n", query, headers)
    request.path_params = {"item_id": 7, "name": "n"}
    assert plan._gather(request) == _looped(plan._getters, request)
    fresh = Request(App(), "GET", "/items/7/n", query, headers)
    fresh.path_params = {"item_id": 7}  # a path parameter missing: left out
    assert plan._gather(fresh) == _looped(plan._getters, fresh)


def test_the_source_is_in_linecache() -> None:
    plan = compile_plan(handler, {"item_id": CONVERTERS["int"], "name": CONVERTERS["str"]})
    code = plan._gather.__code__
    lines = linecache.getlines(code.co_filename)
    assert lines[0] == "def gather(request):\n"
    assert any("request.path_params.get('item_id', MISSING)" in line for line in lines)
    assert any("value = get" in line for line in lines)  # the cookie: its getter called
