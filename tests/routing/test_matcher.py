import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ambi.exceptions import ConfigurationError, RouteConflictError
from ambi.routing import Matcher, MethodNotAllowed, parse_template
from ambi.routing._matcher import Match


def build(*routes: tuple[str, str]) -> Matcher[str]:
    matcher: Matcher[str] = Matcher()
    for method, path in routes:
        matcher.add(parse_template(path), {method}, f"{method} {path}")
    return matcher


def test_static_and_dynamic_paths() -> None:
    m = build(("GET", "/"), ("GET", "/users/me"), ("GET", "/users/{user_id:int}"))
    assert m.match("GET", "/") == Match("GET /", {})
    assert m.match("GET", "/users/me") == Match("GET /users/me", {})
    assert m.match("GET", "/users/42") == Match("GET /users/{user_id:int}", {"user_id": 42})
    assert m.match("GET", "/users/x") is None
    assert m.match("GET", "/nope") is None


@pytest.mark.parametrize(
    ("template", "path", "expected"),
    [
        ("/n/{x:int}", "/n/007", 7),
        ("/f/{x:float}", "/f/1.5", 1.5),
        ("/f/{x:float}", "/f/2", 2.0),
        ("/s/{x}", "/s/hello world", "hello world"),
        ("/p/{x:path}", "/p/a/b/c.txt", "a/b/c.txt"),
        (
            "/u/{x:uuid}",
            "/u/12345678-1234-5678-1234-567812345678",
            uuid.UUID("12345678-1234-5678-1234-567812345678"),
        ),
    ],
)
def test_converters(template: str, path: str, expected: object) -> None:
    m = build(("GET", template))
    found = m.match("GET", path)
    assert isinstance(found, Match)
    assert found.params == {"x": expected}


@pytest.mark.parametrize(
    ("template", "path"),
    [
        ("/n/{x:int}", "/n/-1"),
        ("/n/{x:int}", "/n/1.5"),
        ("/n/{x:int}", "/n/²"),
        ("/f/{x:float}", "/f/nan"),
        ("/u/{x:uuid}", "/u/not-a-uuid"),
        ("/s/{x}", "/s/"),
    ],
)
def test_converters_reject(template: str, path: str) -> None:
    assert build(("GET", template)).match("GET", path) is None


def test_typed_converter_wins_over_str_and_backtracks() -> None:
    m = build(("GET", "/a/{x:int}/b"), ("GET", "/a/{name}/c"))
    assert m.match("GET", "/a/1/b") == Match("GET /a/{x:int}/b", {"x": 1})
    # "1" converts to int, but /a/{int}/c does not exist: backtrack to the str branch
    assert m.match("GET", "/a/1/c") == Match("GET /a/{name}/c", {"name": "1"})


def test_static_segment_wins_over_parameter() -> None:
    m = build(("GET", "/files/{name}"), ("GET", "/files/latest"))
    assert m.match("GET", "/files/latest") == Match("GET /files/latest", {})
    assert m.match("GET", "/files/other") == Match("GET /files/{name}", {"name": "other"})


def test_method_not_allowed_lists_every_method() -> None:
    m = build(("GET", "/items/{i}"), ("DELETE", "/items/{i}"), ("POST", "/items/new"))
    found = m.match("PUT", "/items/new")
    assert isinstance(found, MethodNotAllowed)
    assert found.allowed == {"GET", "HEAD", "DELETE", "POST"}


def test_static_path_with_other_method_falls_back_to_dynamic() -> None:
    m = build(("POST", "/users/me"), ("GET", "/users/{name}"))
    assert m.match("GET", "/users/me") == Match("GET /users/{name}", {"name": "me"})


def test_head_follows_get_unless_registered() -> None:
    m = build(("GET", "/a"))
    assert m.match("HEAD", "/a") == Match("GET /a", {})
    m.add(parse_template("/a"), {"HEAD"}, "HEAD /a")
    assert m.match("HEAD", "/a") == Match("HEAD /a", {})


def test_conflicts_are_configuration_errors() -> None:
    m = build(("GET", "/users/{user_id}"))
    with pytest.raises(RouteConflictError, match="conflicts"):
        m.add(parse_template("/users/{name}"), {"GET"}, "again")
    m.add(parse_template("/users/{name}"), {"POST"}, "post is fine")
    m.add(parse_template("/users/{n:int}"), {"GET"}, "another shape is fine")
    with pytest.raises(RouteConflictError):
        build(("GET", "/x"), ("GET", "/x"))


@pytest.mark.parametrize(
    "template",
    ["no-slash", "/a/{x:nope}", "/a/{x}/{x}", "/a/{p:path}/b", "/a/b{x}", "/a/{1x}"],
)
def test_bad_templates(template: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_template(template)


def test_trailing_slash_is_distinct() -> None:
    m = build(("GET", "/items"))
    assert m.match("GET", "/items/") is None


@given(st.lists(st.text(alphabet="abcxyz019-_.~ ", min_size=1, max_size=8), min_size=1, max_size=5))
def test_str_segments_round_trip(segments: list[str]) -> None:
    template = "/" + "/".join(f"{{p{i}}}" for i in range(len(segments)))
    m = build(("GET", template))
    found = m.match("GET", "/" + "/".join(segments))
    assert isinstance(found, Match)
    assert list(found.params.values()) == segments


@given(st.integers(min_value=0, max_value=10**30))
def test_int_converter_round_trip(value: int) -> None:
    found = build(("GET", "/n/{x:int}")).match("GET", f"/n/{value}")
    assert isinstance(found, Match)
    assert found.params == {"x": value}


def _searched(matcher: Matcher[str], method: str, path: str) -> object:
    """The lookup as `_find` alone makes it, from the root (the walk's reference)."""
    from ambi.routing._matcher import _Search

    leaf = matcher._static.get(path)
    if leaf is not None and method in leaf.by_method:
        return ("route", leaf.by_method[method][0], {})
    allowed = leaf.allowed if leaf is not None else set()
    values: list[object] = []
    segments = path[1:].split("/")
    found = matcher._find(matcher._root, segments, 0, _Search(method, values, allowed))
    if found is not None:
        return ("route", found[0], dict(zip(found[1], values, strict=True)))
    return ("405", allowed) if allowed else None


def _answer(result: object) -> object:
    if isinstance(result, Match):
        return ("route", result.value, result.params)
    if isinstance(result, MethodNotAllowed):
        return ("405", result.allowed)
    return result


_SEGMENT = st.sampled_from(["a", "b", "items", "{}", "{:int}", "{:float}"])
_TEMPLATES = st.lists(st.lists(_SEGMENT, min_size=1, max_size=4), min_size=1, max_size=4)
_VALUE = {"{}": "x", "{:int}": "42", "{:float}": "2.5"}
_PATH = st.lists(st.sampled_from(["a", "b", "items", "1", "42", "2.5", "x", ""]), max_size=5)


def _template(segments: list[str], tail: bool) -> str:
    """`{}` segments named by their position (`{p1:int}`); `tail`: a `{rest:path}` last."""
    parts = [f"{{p{i}{s[1:-1]}}}" if s.startswith("{") else s for i, s in enumerate(segments)]
    return "/" + "/".join([*parts, "{rest:path}"] if tail else parts)


@given(_TEMPLATES, st.booleans(), st.lists(_PATH, min_size=1, max_size=6))
def test_the_walk_finds_what_the_search_finds(templates, tail, paths) -> None:
    """`match` walks one-way nodes in a loop and searches only where there are
    alternatives: the answer (route, parameters, 405 methods) is the full search's."""
    matcher: Matcher[str] = Matcher()
    for index, segments in enumerate(templates):
        method = "GET" if index % 2 == 0 else "POST"
        try:
            matcher.add(
                parse_template(_template(segments, tail and index == 0)), {method}, str(index)
            )
        except ConfigurationError:
            continue  # the same shape twice
    filled = [[_VALUE.get(s, s) for s in segments] for segments in templates]
    for segments in [*paths, *filled, *([*t, "a", "b"] for t in filled)]:
        path = "/" + "/".join(segments)
        for method in ("GET", "POST", "PUT"):
            assert _answer(matcher.match(method, path)) == _searched(matcher, method, path)
