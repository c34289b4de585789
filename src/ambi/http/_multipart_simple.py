"""A multipart body held whole, in its common well-formed shape, split without
python-multipart's state machine; anything else is left to python-multipart.

PERF: a 100 KB upload read whole (`read_whole_form`) cost ~31 us of the loop's CPU to parse
with python-multipart: 10 us its boundary search, ~8 us its state machine and callback
dispatch over 13 events, the rest our callbacks. Here the same callbacks (`_Parts`, in the
same order, with the same slices) are driven from a handful of `bytes.find` calls: ~20 us
in all; server CPU per 100 KB upload, 200 at once, 161 -> 137 us (benchmarks/
bench_uploads.py's uploads; RESULTS.md, session 10, "uploads").

`split` recognises only this shape, byte for byte:

    --BOUNDARY CRLF
    ( Token: value CRLF ){1,8} CRLF data CRLF --BOUNDARY ( CRLF <next part> | -- <anything> )

(header names made of token characters, a value without CR or LF, at most python-multipart's
header count and size; no preamble, no transport padding after a boundary, no boundary
followed by other bytes inside a part's data). For any other body it returns False before a
single callback ran, and python-multipart parses the body: its errors and its readings of
unusual bodies stay the only ones. A test checks both paths agree on generated bodies
(tests/http/test_multipart_simple.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from python_multipart.multipart import (
    DEFAULT_MAX_HEADER_COUNT,
    DEFAULT_MAX_HEADER_SIZE,
    MAX_BOUNDARY_LENGTH,
    TOKEN_CHARS,
)

if TYPE_CHECKING:
    from ._multipart import _Parts

#: One part: its header lines as (name start, name end, value start, value end) in the
#: body, and its data's (start, end).
_Part = tuple[list[tuple[int, int, int, int]], int, int]


def _headers(body: bytes, start: int, end: int) -> list[tuple[int, int, int, int]] | None:
    """The header lines in `body[start:end]` (CRLF-separated), or None if one is unusual."""
    lines = []
    position = start
    while position < end:
        line_end = body.find(b"\r\n", position, end)
        if line_end < 0:
            line_end = end
        colon = body.find(b":", position, line_end)
        if (
            colon <= position  # no name, or no colon
            or line_end - position > DEFAULT_MAX_HEADER_SIZE
            or body[position:colon].translate(None, TOKEN_CHARS)  # not a token
        ):
            return None
        value = colon + 1
        while value < line_end and body[value] == 0x20:  # spaces (python-multipart skips them)
            value += 1
        if body.find(b"\r", value, line_end) >= 0 or body.find(b"\n", value, line_end) >= 0:
            return None
        lines.append((position, colon, value, line_end))
        if len(lines) > DEFAULT_MAX_HEADER_COUNT:
            return None
        position = line_end + 2
    return lines if lines else None


def _scan(boundary: bytes, body: bytes) -> list[_Part] | None:
    """The parts of `body` if it has the shape above, else None."""
    delimiter = b"\r\n--" + boundary
    if len(boundary) > MAX_BOUNDARY_LENGTH or not body.startswith(delimiter[2:] + b"\r\n"):
        return None
    position = len(delimiter)  # "--" boundary CRLF: as long as the delimiter
    parts: list[_Part] = []
    while True:
        head_end = body.find(b"\r\n\r\n", position)
        headers = _headers(body, position, head_end) if head_end >= 0 else None
        found = body.find(delimiter, head_end + 4) if headers is not None else -1
        if headers is None or found < 0:
            return None
        parts.append((headers, head_end + 4, found))
        after = found + len(delimiter)
        follows = body[after : after + 2]
        if follows == b"--":
            return parts
        if follows != b"\r\n":  # transport padding, or the boundary inside the data
            return None
        position = after + 2


def split(boundary: bytes, body: bytes, parts: _Parts) -> bool:
    """Drive `parts`' callbacks over `body` as python-multipart would; False (nothing
    called) when the body is not of the shape above."""
    scanned = _scan(boundary, body)
    if scanned is None:
        return False
    for headers, start, end in scanned:
        parts._part_begin()
        for name_start, name_end, value_start, value_end in headers:
            parts._header_field(body, name_start, name_end)
            parts._header_value(body, value_start, value_end)
            parts._header_end()
        parts._headers_finished()
        if end > start:  # python-multipart calls nothing for an empty part
            parts._part_data(body, start, end)
        parts._part_end()
    return True
