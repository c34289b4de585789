"""A route whose one input is a JSON body validates the body's bytes by the body's own
type (`HandlerPlan._body_only`), and answers exactly as through the route's model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ambi import (
    App,
    BaseModel,
    Body,
    Depends,
    Field,
    HTTPException,
    Request,
    RequestValidationError,
)
from ambi._signature import HandlerPlan, compile_plan
from ambi.testing import TestClient


class Item(BaseModel):
    sku: str
    qty: int = Field(gt=0)
    price: float


class Order(BaseModel):
    customer_id: int
    items: list[Item]
    note: str | None = None
    priority: int = Field(default=0, ge=0, le=5)


def takes_order(order: Order) -> None: ...


def takes_numbers(numbers: list[int] = Body()) -> None: ...


def takes_optional(order: Order | None = None) -> None: ...


def takes_order_and_query(order: Order, q: int) -> None: ...


def takes_embedded(order: Order = Body(embed=True)) -> None: ...


def takes_two(order: Order, item: Item) -> None: ...


def user() -> str:
    return "u"


def takes_order_and_dependency(order: Order, who: str = Depends(user)) -> None: ...


@pytest.mark.parametrize(
    ("handler", "fast"),
    [
        (takes_order, True),
        (takes_numbers, True),
        (takes_optional, False),  # an absent body takes the default: the general way
        (takes_order_and_query, False),
        (takes_embedded, False),
        (takes_two, False),
        (takes_order_and_dependency, False),
    ],
)
def test_only_a_route_whose_one_input_is_a_required_body_goes_the_short_way(
    handler: Callable[..., Any], fast: bool
) -> None:
    assert (compile_plan(handler)._body_only is not None) is fast


def _request(body: bytes, content_type: str = "application/json") -> Request:
    request = Request(App(), "POST", "/", "", [("content-type", content_type)])
    request._body = body
    return request


def _general(plan: HandlerPlan, request: Request) -> Any:
    """The handler's arguments through the route's model (the short way turned off)."""
    return plan._extract_all(request)


def _outcome(plan: HandlerPlan, request: Request) -> Any:
    try:
        return ("ok", plan.extract(request))
    except HTTPException as exc:
        return _error(exc)


def _general_outcome(plan: HandlerPlan, request: Request) -> Any:
    try:
        return ("ok", _general(plan, request))
    except HTTPException as exc:
        return _error(exc)


def _error(exc: HTTPException) -> Any:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else exc.detail
    return ("error", exc.status_code, errors)


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 10)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=8,
)
_ITEMS = st.fixed_dictionaries(
    {"sku": _JSON | st.text(), "qty": _JSON | st.integers(-1, 3), "price": _JSON},
)
_ORDERS = st.fixed_dictionaries(
    {
        "customer_id": _JSON | st.integers(-(2**63), 2**63 - 1),
        "items": st.lists(_ITEMS, max_size=2) | _JSON,
    },
    optional={"note": _JSON, "priority": st.integers(-1, 6) | _JSON, "extra": _JSON},
)


@settings(max_examples=300, deadline=None)
@given(_ORDERS | _JSON)
def test_the_short_way_answers_as_the_route_model(value: Any) -> None:
    """Same arguments for a valid body, same 422 for an invalid one."""
    plan = compile_plan(takes_order)
    body = orjson.dumps(value)
    assert _outcome(plan, _request(body)) == _general_outcome(plan, _request(body))


@pytest.mark.parametrize(
    "body", [b"{", b"\xff\xfe", b"[1, 2", b'{"customer_id": 1, "items": []} x', b"null"]
)
def test_bodies_that_are_not_json_answer_as_the_route_model(body: bytes) -> None:
    plan = compile_plan(takes_order)
    assert _outcome(plan, _request(body)) == _general_outcome(plan, _request(body))


def test_a_wrong_content_type_is_still_415() -> None:
    plan = compile_plan(takes_order)
    with pytest.raises(HTTPException) as raised:
        plan.extract(_request(b'{"customer_id": 1, "items": []}', "text/plain"))
    assert raised.value.status_code == 415


def test_served_body_route(
    app: App,
    client_for: Callable[[App], TestClient],
    make_handler: Callable[[Callable[..., Any]], Callable[..., Any]],
) -> None:
    def create(order: Order) -> dict[str, Any]:
        return {"n": len(order.items), "first": order.items[0].qty if order.items else None}

    app.post("/orders")(make_handler(create))
    client = client_for(app)
    good = {"customer_id": 1, "items": [{"sku": "a", "qty": "2", "price": 1}]}
    assert client.post("/orders", json=good).json() == {"n": 1, "first": 2}
    bad = client.post("/orders", json={"customer_id": 1, "items": [{"sku": "a", "qty": 0}]})
    assert bad.status_code == 422
    assert [(e["type"], e["loc"]) for e in bad.json()["detail"]] == [
        ("greater_than", ["body", "items", 0, "qty"]),
        ("missing", ["body", "items", 0, "price"]),
    ]
    assert client.post("/orders", content=b"").status_code == 422  # no body: missing
