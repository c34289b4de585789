"""The request headers a static file answer depends on: `Range`, `If-Range`,
`If-None-Match`, `If-Modified-Since` and `Accept-Encoding` (RFC 9110), as pure functions."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

#: A `Range` header asking for more pieces than this is ignored (the whole file is sent):
#: many tiny ranges cost more to answer than the file (RFC 9110 14.2 allows ignoring).
MAX_RANGES = 64


def _position(text: str) -> int:
    """A byte position; ValueError if `text` is not one (digits only, no sign)."""
    text = text.strip()
    if not text or not text.isascii() or not text.isdigit() or len(text) > 20:
        raise ValueError(text)
    return int(text)


def _one_range(spec: str, size: int) -> tuple[int, int] | None:
    """`(start, end)` (end exclusive) for one range-spec, None when it is outside the
    file; ValueError when it cannot be read."""
    first_text, dash, last_text = spec.partition("-")
    if not dash:
        raise ValueError(spec)
    if not first_text.strip():  # a suffix range: the last N bytes
        suffix = _position(last_text)
        return (max(size - suffix, 0), size) if suffix and size else None
    first = _position(first_text)
    if not last_text.strip():
        return (first, size) if first < size else None
    last = _position(last_text)
    if last < first:
        raise ValueError(spec)
    return (first, min(last + 1, size)) if first < size else None


def parse_range(header: str, size: int) -> list[tuple[int, int]] | None:
    """The byte ranges `header` asks of a `size`-byte file, sorted, overlaps merged.

    None: the header cannot be read (or asks for too many ranges) and is ignored, as RFC
    9110 allows; an empty list: the header is valid but no range overlaps the file (416).
    """
    unit, equals, specs = header.partition("=")
    if not equals or unit.strip().lower() != "bytes":
        return None
    pieces = specs.split(",")
    if len(pieces) > MAX_RANGES:
        return None
    ranges: list[tuple[int, int]] = []
    for piece in pieces:
        if not piece.strip():
            continue  # RFC 9110 5.6.1: empty list elements are allowed and skipped
        try:
            found = _one_range(piece, size)
        except ValueError:
            return None
        if found is not None:
            ranges.append(found)
    ranges.sort()
    merged: list[tuple[int, int]] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def http_date_seconds(value: str) -> int | None:
    """An HTTP date as whole seconds since the epoch; None if it is not one."""
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:
        return None
    return int(moment.timestamp())


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def none_match(header: str, etag: str) -> bool:
    """Whether `If-None-Match: header` matches `etag` (weak comparison, `*` matches all)."""
    if header.strip() == "*":
        return True
    wanted = _opaque(etag)
    return any(_opaque(tag) == wanted for tag in header.split(","))


def if_range_holds(header: str, etag: str, last_modified: int) -> bool:
    """Whether `If-Range: header` lets a range be sent: a strong match of the entity tag,
    or exactly the file's Last-Modified date."""
    header = header.strip()
    if header.startswith(('"', "W/")):
        return header == etag  # strong comparison: a weak tag never matches
    return http_date_seconds(header) == last_modified


def accepted_encodings(header: str) -> list[str]:
    """The content codings among `br` and `gzip` that `Accept-Encoding: header` allows,
    best first (a higher q first; on equal q, br before gzip)."""
    weights: dict[str, float] = {}
    star: float | None = None
    for item in header.split(","):
        name, _, params = item.partition(";")
        name = name.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        if name == "*":
            star = quality
        elif name in ("br", "gzip", "x-gzip"):
            weights["gzip" if name == "x-gzip" else name] = quality
    ranked = []
    for preference, coding in enumerate(("br", "gzip")):
        quality = weights.get(coding, star if star is not None else 0.0)
        if quality > 0:
            ranked.append((-quality, preference, coding))
    return [coding for _, _, coding in sorted(ranked)]
