"""Property tests (hypothesis) for argument parsing and validation: whatever arrives, a plan
either gives the handler its arguments or raises an HTTP error (422, 415, 400); nothing
else escapes, and well-formed input round-trips."""

from typing import Any
from urllib.parse import urlencode

import orjson
import pydantic
import pydantic_core
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ambi import App, BaseModel, Body, Field, Header, HTTPException, Query, RequestValidationError
from ambi._signature import compile_plan, is_json_media
from ambi.http import Request
from ambi.routing import CONVERTERS

APP = App()


def request(
    query: str = "",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    path_params: dict[str, Any] | None = None,
) -> Request:
    req = Request(APP, "POST", "/", query, headers or [])
    req.body = body
    req.path_params = path_params or {}
    return req


def extract_or_http_error(plan: Any, req: Request) -> dict[str, Any] | HTTPException:
    try:
        result: dict[str, Any] = plan.extract(req)
    except HTTPException as exc:
        return exc
    return result


def query_handler(
    n: int = Query(0, ge=-1000, le=1000),
    flag: bool = False,
    ids: list[int] = Query([]),
    name: str | None = Query(None, max_length=10),
) -> None:
    return None


QUERY_PLAN = compile_plan(query_handler)


@given(st.text())
def test_any_query_string_is_answered(raw: str) -> None:
    outcome = extract_or_http_error(QUERY_PLAN, request(query=raw))
    if isinstance(outcome, HTTPException):
        assert isinstance(outcome, RequestValidationError)
        assert outcome.errors()
        for error in outcome.errors():
            assert error["loc"][0] == "query"
            assert error["loc"][1] in {"n", "flag", "ids", "name"}
            orjson.dumps(error)  # JSON-ready
    else:
        assert set(outcome) == {"n", "flag", "ids", "name"}


@given(
    n=st.integers(-1000, 1000),
    ids=st.lists(st.integers(-(2**63), 2**63 - 1), max_size=5),
    name=st.text(max_size=10),
)
def test_valid_queries_round_trip(n: int, ids: list[int], name: str) -> None:
    query = urlencode([("n", n), *(("ids", i) for i in ids), ("name", name)])
    assert QUERY_PLAN.extract(request(query=query)) == {
        "n": n,
        "flag": False,
        "ids": ids,
        "name": name,
    }


TRUE = ["true", "1", "yes", "on", "t", "y"]
FALSE = ["false", "0", "no", "off", "f", "n"]


@given(st.sampled_from(TRUE + FALSE), st.randoms())
def test_booleans_in_any_case(word: str, rnd: Any) -> None:
    spelled = "".join(c.upper() if rnd.random() < 0.5 else c for c in word)
    assert QUERY_PLAN.extract(request(query=f"flag={spelled}"))["flag"] is (word in TRUE)


def header_handler(
    request_id: str = Header("unknown", alias="X-Request-ID"), x_count: int = Header(0)
) -> None:
    return None


HEADER_PLAN = compile_plan(header_handler)


@given(
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1), st.randoms()
)
def test_headers_match_case_insensitively(value: str, rnd: Any) -> None:
    name = "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in "x-request-id")
    # Servers hand headers over lower-cased; the alias must match whatever case it was given in.
    extracted = HEADER_PLAN.extract(request(headers=[(name.lower(), value)]))
    assert extracted["request_id"] == value


class Line(BaseModel):
    sku: str = Field(min_length=1, max_length=20)
    qty: int = Field(gt=0)


class Order(BaseModel):
    customer_id: int
    items: list[Line] = Field(min_length=1)
    note: str | None = None


def order_handler(order: Order, express: bool = Body(False, embed=False)) -> None:
    return None


def single_body(order: Order) -> None:
    return None


BODY_PLAN = compile_plan(single_body)
EMBED_PLAN = compile_plan(order_handler)


@given(st.binary(max_size=200), st.sampled_from([None, "application/json", "text/plain"]))
@example(b"\x00\x00\x00a\x00", "application/json")  # read as UTF-32 by json.loads, cut short
def test_any_body_is_answered_with_the_handlers_arguments_or_an_http_error(
    body: bytes, content_type: str | None
) -> None:
    headers = [("content-type", content_type)] if content_type else []
    for plan in (BODY_PLAN, EMBED_PLAN):
        outcome = extract_or_http_error(plan, request(headers=headers, body=body))
        if isinstance(outcome, HTTPException):
            assert outcome.status_code in (400, 415, 422)
            if isinstance(outcome, RequestValidationError):
                assert all(e["loc"][0] == "body" for e in outcome.errors())
                orjson.dumps(outcome.errors())
        else:
            assert isinstance(outcome["order"], Order)


orders = st.builds(
    dict,
    customer_id=st.integers(-(2**63), 2**63 - 1),
    items=st.lists(
        st.builds(dict, sku=st.text(min_size=1, max_size=20), qty=st.integers(1, 10**6)),
        min_size=1,
        max_size=5,
    ),
    note=st.none() | st.text(max_size=30),
)


@given(orders)
def test_valid_json_bodies_round_trip(order: dict[str, Any]) -> None:
    extracted = BODY_PLAN.extract(
        request(headers=[("content-type", "application/json")], body=orjson.dumps(order))
    )
    assert extracted["order"].model_dump() == order


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=10,
)


@given(json_values)
@settings(max_examples=50)
def test_any_json_value_is_validated_not_crashed_on(value: Any) -> None:
    outcome = extract_or_http_error(BODY_PLAN, request(body=pydantic_core.to_json(value)))
    assert isinstance(outcome, RequestValidationError) or isinstance(outcome["order"], Order)


def path_handler(item_id: int, name: str) -> None:
    return None


PATH_PLAN = compile_plan(path_handler, {"item_id": CONVERTERS["str"], "name": CONVERTERS["int"]})


@given(st.text(min_size=1), st.integers(0, 10**9))
def test_path_values_are_validated(item_id: str, name: int) -> None:
    outcome = extract_or_http_error(
        PATH_PLAN, request(path_params={"item_id": item_id, "name": name})
    )
    if isinstance(outcome, HTTPException):
        assert [e["loc"] for e in outcome.errors()] == [["path", "item_id"]]  # type: ignore[attr-defined]
    else:
        # pydantic's lax int is the oracle: it also takes "0.0", "1_000", " 7 "
        assert outcome["item_id"] == pydantic.TypeAdapter(int).validate_python(item_id)
        assert outcome["name"] == str(name)  # an {name:int} segment declared str


@given(st.text(max_size=40))
def test_is_json_media(content_type: str) -> None:
    media = content_type.partition(";")[0].strip().lower()
    expected = media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )
    assert is_json_media(content_type) is expected
