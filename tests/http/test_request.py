import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ambi import App, Request
from ambi.http import Headers, QueryParams
from ambi.http._headers import parse_cookies


def test_request_attributes(client_for, make_handler) -> None:
    app = App()

    def inspect_request(request: Request, item_id: int):
        return {
            "method": request.method,
            "path": request.path,
            "url": str(request.url),
            "header": request.headers.get("X-Custom"),
            "all": request.headers.getlist("x-multi"),
            "query": request.query_params.getlist("tag"),
            "path_params": request.path_params,
            "params": request.params,
            "cookies": request.cookies,
            "client": list(request.client) if request.client else None,
            "app_is_app": request.app is app,
        }

    app.get("/items/{item_id:int}")(make_handler(inspect_request))
    client = client_for(app)
    response = client.get(
        "/items/3?tag=a&tag=b",
        headers=[("x-custom", "1"), ("X-Multi", "a"), ("x-multi", "b"), ("cookie", "s=abc; t=1")],
    )
    assert response.json() == {
        "method": "GET",
        "path": "/items/3",
        "url": "http://testserver/items/3?tag=a&tag=b",
        "header": "1",
        "all": ["a", "b"],
        "query": ["a", "b"],
        "path_params": {"item_id": 3},
        "params": {"item_id": 3},
        "cookies": {"s": "abc", "t": "1"},
        "client": ["testclient", 50000],
        "app_is_app": True,
    }


def test_request_is_optional_and_may_be_named_anything(client_for, make_handler) -> None:
    app = App()
    app.get("/none")(make_handler(lambda: "no request"))
    app.get("/named")(make_handler(lambda req: "x"))  # unannotated, not named request: query
    app.get("/annotated")(make_handler(lambda req: req.method))
    app.routes.clear()

    def annotated(req: Request) -> str:
        return req.method

    app2 = App()
    app2.get("/none")(make_handler(lambda: "no request"))
    app2.get("/annotated")(make_handler(annotated))
    client = client_for(app2)
    assert client.get("/none").text == "no request"
    assert client.get("/annotated").text == "GET"


def test_body_json_and_text(client_for, make_handler) -> None:
    app = App()
    app.post("/json")(make_handler(lambda request: {"got": request.json()}))
    app.post("/text")(make_handler(lambda request: request.text()))
    app.post("/raw")(make_handler(lambda request: {"len": len(request.body)}))
    client = client_for(app)
    assert client.post("/json", json={"a": [1, 2]}).json() == {"got": {"a": [1, 2]}}
    assert client.post("/text", content="héllo".encode()).text == "héllo"
    assert client.post("/raw", content=b"x" * 1000).json() == {"len": 1000}


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe"])
def test_malformed_json_is_400(client_for, make_handler, body: bytes) -> None:
    app = App()
    app.post("/json")(make_handler(lambda request: request.json()))
    client = client_for(app)
    response = client.post("/json", content=body)
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]
    assert client.post("/json", json=[1]).json() == [1]  # and the next request works


def test_text_that_is_not_utf8_is_400(client_for) -> None:
    app = App()
    app.post("/text")(lambda request: request.text())
    response = client_for(app).post("/text", content=b"\xff")
    assert response.status_code == 400


def test_body_limit(client_for) -> None:
    app = App(max_body_size=100)
    app.post("/echo")(lambda request: {"len": len(request.body)})
    client = client_for(app)
    assert client.post("/echo", content=b"x" * 100).json() == {"len": 100}
    too_big = client.post("/echo", content=b"x" * 101)
    assert too_big.status_code == 413
    assert "100 bytes" in too_big.json()["detail"]

    def chunked():
        yield b"x" * 60
        yield b"x" * 60

    assert client.post("/echo", content=chunked()).status_code == 413


def test_form_urlencoded_and_multipart(client_for, make_handler) -> None:
    app = App()

    def form_handler(request):
        form = request.form()
        upload = form.get("file")
        return {
            "name": form["name"],
            "tags": form.getlist("tag"),
            "file": upload.file.read().decode() if upload is not None else None,
            "filename": getattr(upload, "filename", None),
        }

    app.post("/form")(make_handler(form_handler))
    client = client_for(app)
    urlencoded = client.post("/form", data={"name": "ambi", "tag": ["a", "b"]})
    assert urlencoded.json() == {"name": "ambi", "tags": ["a", "b"], "file": None, "filename": None}
    multipart = client.post(
        "/form", data={"name": "x", "tag": "t"}, files={"file": ("a.txt", b"hello", "text/plain")}
    )
    assert multipart.json() == {"name": "x", "tags": ["t"], "file": "hello", "filename": "a.txt"}


def test_form_wrong_content_type_is_415(client_for) -> None:
    app = App()
    app.post("/form")(lambda request: dict(request.form()))
    response = client_for(app).post("/form", json={"a": 1})
    assert response.status_code == 415


def test_streamed_body(client_for) -> None:
    app = App(max_body_size=10)

    async def upload(request):
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return {"size": size}

    app.post("/upload", stream_body=True, max_body_size="5KB")(upload)
    app.post("/small", stream_body=True)(upload)
    client = client_for(app)
    assert client.post("/upload", content=b"y" * 5000).json() == {"size": 5000}
    too_big = client.post("/upload", content=b"y" * 5121)  # by its Content-Length
    assert (too_big.status_code, too_big.headers["connection"]) == (413, "close")
    assert client.post("/small", content=iter([b"y" * 6, b"y" * 6])).status_code == 413


def test_state_is_per_request(client_for) -> None:
    app = App()
    seen: list[object] = []

    @app.get("/s")
    def state(request):
        seen.append(request.state)
        request.state.user = threading.current_thread().name
        return {"user": request.state.user}

    client = client_for(app)
    client.get("/s")
    client.get("/s")
    assert seen[0] is not seen[1]


def test_headers_are_case_insensitive_and_multi_valued() -> None:
    headers = Headers([("x-a", "1"), ("x-a", "2"), ("content-type", "text/plain")])
    assert headers["X-A"] == "1, 2"
    assert headers.getlist("X-a") == ["1", "2"]
    assert "Content-Type" in headers
    assert headers.get("missing", "d") == "d"
    assert len(headers) == 2


@given(st.lists(st.tuples(st.text(min_size=1), st.text()), max_size=6))
def test_query_params_round_trip(pairs: list[tuple[str, str]]) -> None:
    from urllib.parse import urlencode

    params = QueryParams(urlencode(pairs))
    assert params.multi_items() == pairs
    for key, _ in pairs:
        assert params.getlist(key) == [v for k, v in pairs if k == key]
        assert params[key] == [v for k, v in pairs if k == key][-1]


@given(st.text())
def test_cookie_parser_never_raises(header: str) -> None:
    cookies = parse_cookies(header)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in cookies.items())


@given(st.text(alphabet="ab=&;%+ 1é", max_size=20))
def test_query_fast_path_agrees_with_parse_qsl(query: str) -> None:
    from urllib.parse import parse_qsl

    assert QueryParams(query).multi_items() == parse_qsl(query, keep_blank_values=True)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("127.0.0.1:50000", ("127.0.0.1", 50000)),
        ("[::1]:8080", ("::1", 8080)),
        ("unix-socket", None),
        ("host:port", None),
        (("10.0.0.1", 5), ("10.0.0.1", 5)),
        (None, None),
    ],
)
def test_the_client_address_is_parsed_on_first_use(raw, expected) -> None:
    """The RSGI adapter hands the server's "host:port" unparsed; ASGI a (host, port) pair."""
    request = Request(App(), "GET", "/", "", [], client=raw)
    assert request.client_host == (expected[0] if expected else None)
    client = request.client
    assert (tuple(client) if client is not None else None) == expected
    if client is not None:
        assert (client.host, client.port) == expected
        assert request.client is client  # parsed once
    assert request.client_host == (expected[0] if expected else None)


_BODY_HEADERS = st.sampled_from(["content-length", "transfer-encoding", "host", "accept"])


@given(st.lists(st.tuples(_BODY_HEADERS, st.sampled_from(["0", "5", "chunked", "x"])), max_size=5))
def test_has_body_reads_the_raw_headers_as_the_index_does(pairs) -> None:
    """Before `request.headers` is built, `has_body` scans the raw pairs; after, it reads
    the index: both answer alike, repeats included."""
    scanned = Request(App(), "POST", "/", "", list(pairs))
    indexed = Request(App(), "POST", "/", "", list(pairs))
    assert indexed.headers is not None  # built
    assert scanned.has_body() == indexed.has_body()


_NAMES = st.sampled_from(["content-type", "content-length", "cookie", "host", "accept"])


@given(st.lists(st.tuples(_NAMES, st.sampled_from(["a", "b", "application/json"])), max_size=6))
def test_a_header_read_before_the_index_is_the_index_s_value(pairs) -> None:
    """`request._header(name)` (the pairs' dict when no name repeats, else a scan of the
    pairs) answers as `request.headers.get(name)`, repeats and cookies included; and the
    headers built from the request's dict are those built from the pairs."""
    request = Request(App(), "POST", "/", "", list(pairs))
    assert (request._header_dict is None) == (len({name for name, _ in pairs}) < len(pairs))
    answers = {name: request._header(name) for name in ["content-type", "cookie", "accept"]}
    fresh = Headers(list(pairs))
    assert answers == {name: fresh.get(name) for name in answers}
    assert dict(request.headers) == dict(fresh)
    assert answers == {name: request._header(name) for name in answers}  # index built now
