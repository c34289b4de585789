"""Compiling signatures into plans: the inference table, and the configuration errors a
handler that cannot be served raises at registration."""

import functools
from dataclasses import dataclass
from typing import Annotated, Any, Optional

import pytest

from ambi import (
    App,
    BaseModel,
    Body,
    Cookie,
    File,
    Form,
    Header,
    Path,
    Query,
    Request,
    SignatureError,
    UploadFile,
)
from ambi._signature import HandlerPlan, compile_plan, register_injectable
from ambi._signature._compile import _INJECTABLES
from ambi.params import BodyParam, FileParam, PathParam, QueryParam
from ambi.routing import CONVERTERS
from ambi.testing import TestClient


class Model(BaseModel):
    a: int


@dataclass
class Data:
    a: int


def sources(plan: HandlerPlan) -> dict[str, str]:
    found = {s.name: s.source for s in (*plan.params, *plan.body_params)}
    found.update(dict.fromkeys(plan.request_names, "request"))
    return found


STR = {"service": CONVERTERS["str"]}


@pytest.mark.parametrize(
    ("annotation", "source"),
    [
        (int, "query"),
        (str, "query"),
        (bool, "query"),
        (Optional[int], "query"),  # noqa: UP045 - the typing spelling, on purpose
        (int | None, "query"),
        (list[str], "query"),
        (list[int] | None, "query"),
        (tuple[int, ...], "query"),
        (Model, "body"),
        (Optional[Model], "body"),  # noqa: UP045
        (Data, "body"),
        (dict, "body"),
        (dict[str, Any], "body"),
        (list[dict], "body"),
        (list[Model], "body"),
        (Model | Data, "body"),
        (UploadFile, "file"),
        (list[UploadFile], "file"),
        (UploadFile | None, "file"),
        (Request, "request"),
    ],
)
def test_the_inference_table(annotation: Any, source: str) -> None:
    def handler(value: Any) -> None:
        return None

    handler.__annotations__["value"] = annotation
    assert sources(compile_plan(handler)) == {"value": source}


def test_names_in_the_path_template_are_path_parameters() -> None:
    def handler(service: str, limit: int = 3) -> None:
        return None

    assert sources(compile_plan(handler, STR)) == {"service": "path", "limit": "query"}


def test_request_by_name_without_annotation() -> None:
    def handler(request, other):  # type: ignore[no-untyped-def]
        return None

    plan = compile_plan(handler)
    assert sources(plan) == {"request": "request", "other": "query"}
    assert plan.request_first
    assert not plan.only_request


def test_only_request_plans_skip_extraction() -> None:
    def bare() -> None:
        return None

    def with_request(request):  # type: ignore[no-untyped-def]
        return None

    assert compile_plan(bare).only_request
    assert compile_plan(with_request).only_request
    assert compile_plan(bare).model is None


@pytest.mark.parametrize(
    ("marker", "cls"),
    [(Query(), QueryParam), (Body(), BodyParam), (File(), FileParam), (Path(), PathParam)],
)
def test_markers_are_their_classes(marker: Any, cls: type) -> None:
    assert type(marker) is cls


def test_markers_win_over_inference() -> None:
    def handler(
        a: Model = Query(None),  # a model from the query string: the marker says so
        b: int = Body(...),
        c: str = Header(),
        d: str = Cookie(),
    ) -> None:
        return None

    def form(e: Annotated[str, Form()] = "", f: Any = File(None)) -> None:
        return None

    assert sources(compile_plan(handler)) == {
        "a": "query",
        "b": "body",
        "c": "header",
        "d": "cookie",
    }
    assert sources(compile_plan(form)) == {"e": "form", "f": "file"}


def test_one_validator_for_every_source() -> None:
    def handler(service: str, q: int, x: str = Header(""), body: Model | None = None) -> None:
        return None

    plan = compile_plan(handler, STR)
    assert plan.model is not None
    assert set(plan.model.model_fields) == {"p0", "p1", "p2", "body__"}


def test_wire_keys() -> None:
    def handler(
        x_token: str = Header(),
        raw_key: str = Header(convert_underscores=False),
        aliased: str = Header(alias="X-Request-ID"),
        q: str = Query(alias="item-query"),
    ) -> None:
        return None

    keys = {s.name: s.key for s in compile_plan(handler).params}
    assert keys == {
        "x_token": "x-token",
        "raw_key": "raw_key",
        "aliased": "X-Request-ID",
        "q": "item-query",
    }


# Registration errors ----------------------------------------------------------------------


class Unknown:
    pass


def unknown(thing: Unknown) -> None:
    return None


def missing_path(item_id: int = Path()) -> None:
    return None


def path_as_query(item_id: int = Query()) -> None:
    return None


def positional_only(a: int, /) -> None:
    return None


def two_markers(a: Annotated[int, Query()] = Query()) -> None:
    return None


def two_in_annotated(a: Annotated[int, Query(), Header()]) -> None:
    return None


def json_and_form(a: Model, b: str = Form()) -> None:
    return None


def body_only(a: Model) -> None:
    return None


def same_key(a: int = Query(alias="q"), q: int = 0) -> None:
    return None


def forward_ref(a: "NotDefinedAnywhere") -> None:  # type: ignore[name-defined]  # noqa: F821
    return None


def no_model() -> None:
    return None


def bad_return() -> Unknown:
    return Unknown()


@pytest.mark.parametrize(
    ("path", "handler", "options", "message"),
    [
        ("/x", unknown, {}, "cannot be validated"),
        ("/x", missing_path, {}, "'item_id' is not in the route's path template"),
        ("/items/{item_id}", path_as_query, {}, "'item_id' is in the path template"),
        ("/x", positional_only, {}, "positional-only"),
        ("/x", two_markers, {}, "has a marker twice"),
        ("/x", two_in_annotated, {}, "more than one parameter marker"),
        ("/x", json_and_form, {}, "both a JSON body"),
        ("/x", same_key, {}, "both read query key 'q'"),
        ("/x", forward_ref, {}, "cannot resolve the annotations"),
        ("/x", no_model, {"response_model": Unknown}, "response_model"),
        ("/x", bad_return, {}, "the return annotation"),
        ("/x", body_only, {"stream_body": True}, "stream_body"),
    ],
)
def test_a_signature_that_cannot_be_served_fails_at_registration(
    path: str, handler: Any, options: dict[str, Any], message: str
) -> None:
    app = App()
    with pytest.raises(SignatureError, match=message):
        app.get(path, **options)(handler)
    assert app.routes == []
    assert app.compiled == []


def test_an_unannotated_argument_is_a_query_parameter() -> None:
    def handler(value):  # type: ignore[no-untyped-def]
        return value

    assert sources(compile_plan(handler)) == {"value": "query"}


# Unusual callables ------------------------------------------------------------------------


def test_partials_and_callable_objects(client_for: Any) -> None:
    def add(a: int, b: int = Query(0)) -> int:
        return a + b

    class Multiplier:
        def __init__(self, factor: int) -> None:
            self.factor = factor

        async def __call__(self, n: int) -> int:
            return n * self.factor

    app = App()
    app.get("/add")(functools.partial(add, 10))
    app.get("/times")(Multiplier(3))
    client: TestClient = client_for(app)
    assert client.get("/add?b=5").json() == 15
    assert client.get("/times?n=4").json() == 12


# Injectables ------------------------------------------------------------------------------


class Clock:
    def __init__(self, request: Request) -> None:
        self.path = request.path


@pytest.fixture
def clock_injectable() -> Any:
    register_injectable(Clock, Clock)
    yield Clock
    _INJECTABLES.pop(Clock, None)


def test_registered_injectables_are_built_from_the_request(
    clock_injectable: Any, client_for: Any, make_handler: Any
) -> None:
    def handler(clock: Clock, n: int = 1) -> list[Any]:
        return [clock.path, n]

    app = App()
    app.get("/clock")(make_handler(handler))
    plan = app.compiled[0].plan
    assert [name for name, _ in plan.injected] == ["clock"]
    assert client_for(app).get("/clock?n=2").json() == ["/clock", 2]
