"""enable_gzip: gzip, br and zstd, what is left alone, streams chunk by chunk."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import brotli  # type: ignore[import-untyped]
import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from ambi import App, ConfigurationError, Response, StreamingResponse
from ambi.middleware._compression import Compression, parse_accept_encoding
from ambi.testing import TestClient

Client = Callable[..., TestClient]
BIG = "x" * 2000


def _app(**options: Any) -> App:
    app = App()
    app.enable_gzip(**options)
    app.get("/big")(lambda: {"data": BIG})
    app.get("/small")(lambda: {"data": "tiny"})
    app.get("/encoded")(
        lambda: Response(gzip.compress(BIG.encode()), headers={"content-encoding": "gzip"})
    )
    app.get("/events")(
        lambda: StreamingResponse(iter([f"data: {BIG}\n\n"]), media_type="text/event-stream")
    )
    app.get("/png")(lambda: Response(b"\x89PNG" + b"0" * 2000, media_type="image/png"))
    app.get("/tagged")(lambda: Response(BIG, headers={"etag": '"abc"'}, media_type="text/plain"))

    @app.get("/stream")
    def stream() -> StreamingResponse:
        def lines() -> Iterator[str]:
            for i in range(20):
                yield f"line {i} " + "y" * 100 + "\n"

        return StreamingResponse(lines(), media_type="text/plain")

    @app.get("/short-stream")
    def short_stream() -> StreamingResponse:
        return StreamingResponse(iter(["a", "b"]), media_type="text/plain")

    return app


def _raw(client: TestClient, path: str, accept: str) -> Any:
    """The response and its body as sent (the test client's response holds the bytes that
    arrived in its stream; `.content` would decode them)."""
    response = client.get(path, headers={"accept-encoding": accept})
    return response, b"".join(response.stream)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("accept", "name", "decode"),
    [
        ("gzip", "gzip", gzip.decompress),
        ("br", "br", brotli.decompress),
        (
            "zstd",
            "zstd",
            lambda data: zstandard.ZstdDecompressor().decompressobj().decompress(data),
        ),
        ("gzip;q=0.5, br;q=0.9", "br", brotli.decompress),
        (
            "gzip, br, zstd",
            "zstd",
            lambda data: zstandard.ZstdDecompressor().decompressobj().decompress(data),
        ),
    ],
)
def test_encodings(client_for: Client, accept: str, name: str, decode: Any) -> None:
    client = client_for(_app())
    response, raw = _raw(client, "/big", accept)
    assert response.headers["content-encoding"] == name
    assert response.headers["vary"] == "Accept-Encoding"
    assert int(response.headers["content-length"]) == len(raw) < 2000
    assert decode(raw) == f'{{"data":"{BIG}"}}'.encode()


def test_left_alone(client_for: Client) -> None:
    client = client_for(_app())
    for path in ("/small", "/encoded", "/events", "/png", "/short-stream"):
        response, raw = _raw(client, path, "gzip")
        if path != "/encoded":
            assert "content-encoding" not in response.headers, path
    response, raw = _raw(client, "/encoded", "gzip")
    assert gzip.decompress(raw) == BIG.encode()  # compressed once, not twice
    response, raw = _raw(client, "/big", "identity")
    assert "content-encoding" not in response.headers
    assert response.headers["vary"] == "Accept-Encoding"
    response, raw = _raw(client, "/big", "gzip;q=0")
    assert "content-encoding" not in response.headers


def test_stream_compressed_chunk_by_chunk(client_for: Client) -> None:
    client = client_for(_app(minimum_size=200))
    response, raw = _raw(client, "/stream", "gzip")
    assert response.headers["content-encoding"] == "gzip"
    expected = "".join(f"line {i} " + "y" * 100 + "\n" for i in range(20)).encode()
    assert zlib.decompress(raw, 31) == expected
    # every chunk is flushed: a decoder fed only the first flush block already has output
    partial = zlib.decompressobj(31).decompress(raw[: len(raw) // 2])
    assert partial
    assert expected.startswith(partial)


def test_strong_etag_becomes_weak(client_for: Client) -> None:
    response, _ = _raw(client_for(_app()), "/tagged", "gzip")
    assert response.headers["etag"] == 'W/"abc"'


def test_head_gets_the_same_headers(client_for: Client) -> None:
    client = client_for(_app())
    head = client.head("/big", headers={"accept-encoding": "gzip"})
    assert head.headers["content-encoding"] == "gzip"
    get, _ = _raw(client, "/big", "gzip")
    assert head.headers["content-length"] == get.headers["content-length"]


def test_configuration_mistakes() -> None:
    with pytest.raises(ConfigurationError, match="minimum_size"):
        App().enable_gzip(minimum_size=-1)
    with pytest.raises(ConfigurationError, match="compresslevel"):
        App().enable_gzip(compresslevel=0)
    with pytest.raises(ConfigurationError, match="unknown encoding"):
        App().enable_gzip(encodings=["deflate"])
    assert [e.name for e in Compression(encodings=["gzip"]).encodings] == ["gzip"]


def test_choice_follows_q_values() -> None:
    config = Compression()
    assert config.choose("gzip, br") is not None
    assert config.choose("gzip, br").name == "br"  # type: ignore[union-attr]
    assert config.choose("*").name == "zstd"  # type: ignore[union-attr]
    assert config.choose("*;q=0, gzip").name == "gzip"  # type: ignore[union-attr]
    assert config.choose("identity") is None
    assert config.choose("br;q=0, zstd;q=0, gzip;q=0") is None


@given(st.text(max_size=80))
def test_any_accept_encoding_is_parsed_without_error(header: str) -> None:
    parsed = parse_accept_encoding(header)
    assert all(0.0 <= q <= 1.0 for q in parsed.values())
    Compression().choose(header)


@pytest.mark.parametrize(
    ("accept", "decode"),
    [
        ("br", brotli.decompress),
        ("zstd", lambda data: zstandard.ZstdDecompressor().decompressobj().decompress(data)),
    ],
)
def test_stream_in_every_encoding(client_for: Client, accept: str, decode: Any) -> None:
    response, raw = _raw(client_for(_app(minimum_size=200)), "/stream", accept)
    assert response.headers["content-encoding"] == accept
    assert decode(raw) == "".join(f"line {i} " + "y" * 100 + "\n" for i in range(20)).encode()


def test_large_body_compressed_off_the_loop(client_for: Client) -> None:
    app = App()
    app.enable_gzip()
    big = "z" * (200 * 1024)
    app.get("/huge")(lambda: Response(big, media_type="text/plain"))
    _, raw = _raw(client_for(app), "/huge", "gzip")
    assert gzip.decompress(raw) == big.encode()
    assert len(raw) < 10_000


def test_a_failing_stream_before_the_size_check_is_a_500(client_for: Client) -> None:
    app = App()
    app.enable_gzip()

    @app.get("/broken")
    def broken() -> StreamingResponse:
        def parts() -> Iterator[str]:
            yield "a"
            raise RuntimeError("generator failed")

        return StreamingResponse(parts(), media_type="text/plain")

    assert (
        client_for(app, raise_server_exceptions=False)
        .get("/broken", headers={"accept-encoding": "gzip"})
        .status_code
        == 500
    )
