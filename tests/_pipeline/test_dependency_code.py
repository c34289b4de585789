"""The straight-line code a route's dependency graph is compiled into: results carried
between pool trips and the loop, text inputs passed as found (or validated when not), the
generated lines in tracebacks; over def/async handlers and ASGI/RSGI."""

import linecache
import threading
import traceback
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any

import pytest

from ambi import App, Depends, Header, Query
from ambi.testing import TestClient

ClientFor = Callable[..., TestClient]
MakeHandler = Callable[[Callable[..., Any]], Callable[..., Any]]


def test_results_cross_from_trip_to_loop_to_trip(
    app: App, client_for: ClientFor, make_handler: MakeHandler
) -> None:
    """sync, async, sync: the second trip takes what the first made and what the loop
    made; the handler takes from all three; generators in each part are cleaned up."""
    events: list[str] = []
    loop_thread: list[int] = []

    def base(x: int) -> Iterator[int]:
        yield x
        events.append("exit base")

    async def doubled(b: Annotated[int, Depends(base)]) -> int:
        loop_thread.append(threading.get_ident())
        return b * 2

    async def tagged() -> AsyncIterator[str]:
        yield "t"
        events.append("exit tagged")

    def total(b: Annotated[int, Depends(base)], d: Annotated[int, Depends(doubled)]) -> int:
        return b + d

    def label(t: Annotated[str, Depends(tagged)], n: Annotated[int, Depends(total)]) -> str:
        return f"{t}{n}"

    def handler(
        b: Annotated[int, Depends(base)],
        d: Annotated[int, Depends(doubled)],
        s: Annotated[str, Depends(label)],
        c: Annotated[int, Depends(base, use_cache=False)],
    ) -> list[Any]:
        return [b, d, s, c]

    app.get("/mixed")(make_handler(handler))
    assert client_for(app).get("/mixed?x=4").json() == [4, 8, "t12", 4]
    # Last entered, first exited: base (use_cache=False), tagged, base.
    assert events == ["exit base", "exit tagged", "exit base"]


def test_text_inputs_are_passed_as_found_and_validated_when_missing(
    app: App, client_for: ClientFor, make_handler: MakeHandler
) -> None:
    def agent(user_agent: Annotated[str, Header()] = "nobody") -> str:
        return user_agent

    def token(x_token: Annotated[str, Header()]) -> str:
        return x_token

    def handler(a: str = Depends(agent), t: str = Depends(token)) -> list[str]:
        return [a, t]

    app.get("/who")(make_handler(handler))
    client = client_for(app)
    assert client.get("/who", headers={"user-agent": "me", "x-token": "s"}).json() == ["me", "s"]
    # A missing header with a default: the validator gives the default.
    assert client.get("/who", headers={"user-agent": "", "x-token": "s"}).json() == ["", "s"]
    response = client.get("/who", headers={"user-agent": "me"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "x-token"]


def test_a_repeated_header_is_joined_as_the_index_joins_it(
    app: App, client_for: ClientFor, make_handler: MakeHandler
) -> None:
    def forwarded(x_forwarded_for: Annotated[str, Header()]) -> str:
        return x_forwarded_for

    def handler(f: str = Depends(forwarded)) -> str:
        return f

    app.get("/fwd")(make_handler(handler))
    headers = [("x-forwarded-for", "a"), ("x-forwarded-for", "b")]
    assert client_for(app).get("/fwd", headers=headers).text == "a, b"


def test_constrained_text_is_still_validated(
    app: App, client_for: ClientFor, make_handler: MakeHandler
) -> None:
    def code(c: Annotated[str, Query(min_length=3)]) -> str:
        return c

    def handler(value: str = Depends(code)) -> str:
        return value

    app.get("/code")(make_handler(handler))
    client = client_for(app)
    assert client.get("/code?c=abcd").text == "abcd"
    assert client.get("/code?c=ab").status_code == 422


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_tracebacks_show_the_generated_lines(app: App, kind: str) -> None:
    seen: list[traceback.FrameSummary] = []

    def broken() -> int:
        raise ValueError("broken")

    async def broken_async() -> int:
        raise ValueError("broken")

    @app.exception_handler(ValueError)
    async def on_error(request: Any, exc: ValueError) -> Any:
        seen.extend(traceback.extract_tb(exc.__traceback__))
        return {"error": str(exc)}

    @app.get("/broken")
    def handler(n: int = Depends(broken if kind == "sync" else broken_async)) -> int:
        return n

    with TestClient(app) as client:
        assert client.get("/broken").json() == {"error": "broken"}
    generated = [frame for frame in seen if frame.filename.startswith("<ambi dependencies")]
    assert generated, [frame.filename for frame in seen]
    assert "GET /broken" in generated[0].filename
    line = linecache.getline(generated[0].filename, generated[0].lineno or 0)
    assert "f0()" in line
