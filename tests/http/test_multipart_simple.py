"""The whole-body multipart fast path (`ambi.http._multipart_simple`) against python-multipart:
on any body, the same fields, files and errors."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ambi import HTTPException, UploadFile
from ambi.http import _multipart, _multipart_simple
from ambi.http._multipart import FormLimits, _Parts

BOUNDARY = b"b0undary-x"


def _outcome(body: bytes, limits: FormLimits, fast: bool, monkeypatch: Any) -> object:
    """What parsing `body` gives: its items (files as their attributes and bytes), or the
    HTTP error's status and detail."""
    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(_multipart, "split", lambda boundary, body, parts: False)
        try:
            form = _multipart._parse(b"multipart/form-data", BOUNDARY, body, limits)
        except HTTPException as exc:
            return ("error", exc.status_code, exc.detail)
    items: list[object] = []
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            items.append(
                (name, value.filename, value.content_type, value.headers, value.size,
                 value.file.read())
            )  # fmt: skip
        else:
            items.append((name, value))
    return items


def _part(name: str, data: bytes, filename: str | None = None, extra: bytes = b"") -> bytes:
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    return f"Content-Disposition: {disposition}\r\n".encode() + extra + b"\r\n" + data


def _body(parts: list[bytes], end: bytes = b"--\r\n") -> bytes:
    out = b""
    for part in parts:
        out += b"--" + BOUNDARY + b"\r\n" + part + b"\r\n"
    return out + b"--" + BOUNDARY + end


LIMITS = FormLimits(body=1 << 20, fields=1 << 16)


def test_the_common_shape_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    body = _body(
        [
            _part("file", b"\x00\xff" * 1000, "f.bin", b"Content-Type: application/x-thing\r\n"),
            _part("note", "h\u00e9".encode()),
            _part("empty", b"", "e.txt"),
        ]
    )
    parts = _Parts(LIMITS, spooled=False)
    assert _multipart_simple.split(BOUNDARY, body, parts)
    assert _outcome(body, LIMITS, True, monkeypatch) == _outcome(body, LIMITS, False, monkeypatch)
    assert _outcome(body, LIMITS, True, monkeypatch)[0][2] == "application/x-thing"  # type: ignore[index]


@pytest.mark.parametrize(
    "body",
    [
        b"\r\n" + _body([_part("a", b"1")]),  # newlines before the first boundary
        _body([_part("a", b"1")], end=b"  \r\n" + _part("b", b"2") + b"\r\n--" + BOUNDARY + b"--"),
        _body([_part("a", b"x\r\n--" + BOUNDARY + b"y")]),  # the boundary inside the data
        _body([b"Bad Name: v\r\n\r\n1"]),
        _body([b"X: a\rb\r\n\r\n1"]),
        _body([b"\r\n1"]),  # no headers
        _body([_part("a", b"1")], end=b""),  # no closing "--"
        b"--" + BOUNDARY + b"\r\n" + _part("a", b"1"),  # no end at all
    ],
)  # fmt: skip
def test_unusual_bodies_go_to_python_multipart(
    body: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not _multipart_simple.split(BOUNDARY, body, _Parts(LIMITS, spooled=False))
    assert _outcome(body, LIMITS, True, monkeypatch) == _outcome(body, LIMITS, False, monkeypatch)


_pieces = st.sampled_from(
    [
        b"--" + BOUNDARY,
        b"\r\n--" + BOUNDARY,
        b"\r\n",
        b"--",
        b"  ",
        b"\t",
        b"\r",
        b"\n",
        b":",
        b'Content-Disposition: form-data; name="f"',
        b'Content-Disposition: form-data; name="up"; filename="a.txt"',
        b"Content-Disposition: attachment",
        b"Content-Type: text/plain",
        b"X-Thing:   spaced ",
        b"Bad Header: x",
        b"data",
        b"\xff\xfe",
        b"x" * 300,
    ]
)


@st.composite
def _bodies(draw: st.DrawFn) -> bytes:
    """Well-formed bodies, then some of them mangled by pieces inserted or cut."""
    parts = []
    for index in range(draw(st.integers(0, 4))):
        data = draw(st.binary(max_size=40) | st.lists(_pieces, max_size=4).map(b"".join))
        filename = draw(st.none() | st.just(f"f{index}.bin"))
        extra = draw(
            st.sampled_from(
                [
                    b"",
                    b"Content-Type: image/png\r\n",
                    b"X-A:b\r\n",
                    b"X-Tab:\t v\r\n",
                    b"X-Spaces:   v  \r\n",
                    b"X-Empty:\r\n",
                    b"X-Long: " + b"v" * 4300 + b"\r\n",
                    b"X-A: 1\r\n" * 8,
                ]
            )
        )
        parts.append(_part(draw(st.sampled_from(["a", "b", "up"])), data, filename, extra))
    body = _body(parts, end=draw(st.sampled_from([b"--\r\n", b"--", b"--epilogue", b""])))
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(body)))
        if draw(st.booleans()):
            body = body[:at] + draw(_pieces) + body[at:]
        else:
            body = body[:at] + body[at + draw(st.integers(1, 8)) :]
    return body


@settings(max_examples=400, deadline=None)
@given(
    _bodies(),
    st.sampled_from(
        [
            LIMITS,
            FormLimits(body=1 << 20, fields=8, parts=2, part_headers=60, files={"up": 10}),
        ]
    ),
)
def test_both_paths_agree(body: bytes, limits: FormLimits) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast = _outcome(body, limits, True, monkeypatch)
        assert fast == _outcome(body, limits, False, monkeypatch)
