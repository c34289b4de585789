"""Path templates: `/users/{user_id}`, `/files/{p:path}`, with converters."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..exceptions import ConfigurationError

_PARAM = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?\}$")


def _to_int(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() else None


def _to_float(raw: str) -> float | None:
    whole, _, frac = raw.partition(".")
    if whole.isascii() and whole.isdigit() and (not frac or (frac.isascii() and frac.isdigit())):
        return float(raw)
    return None


def _to_uuid(raw: str) -> uuid.UUID | None:
    if len(raw) not in (32, 36):
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def _to_str(raw: str) -> str | None:
    return raw or None


@dataclass(frozen=True, slots=True)
class Converter:
    """Turns one path segment into a value, or None when the segment does not match."""

    name: str
    convert: Callable[[str], Any]
    priority: int  # lower is tried first among the parameter children of a node
    python_type: type
    openapi: tuple[tuple[str, str], ...]


CONVERTERS: dict[str, Converter] = {
    "int": Converter("int", _to_int, 0, int, (("type", "integer"),)),
    "float": Converter("float", _to_float, 1, float, (("type", "number"),)),
    "uuid": Converter("uuid", _to_uuid, 2, uuid.UUID, (("type", "string"), ("format", "uuid"))),
    "str": Converter("str", _to_str, 3, str, (("type", "string"),)),
    # `path` takes every remaining segment, slashes included; it is only allowed last.
    "path": Converter("path", lambda raw: raw, 4, str, (("type", "string"),)),
}


@dataclass(frozen=True, slots=True)
class Segment:
    """One `/`-separated piece of a template: a literal, or a named parameter."""

    literal: str | None
    param: str | None = None
    converter: Converter | None = None

    @property
    def shape(self) -> str:
        """What makes two templates collide: literals, and converters without names."""
        if self.converter is None:
            return self.literal or ""
        return "{:" + self.converter.name + "}"


@dataclass(frozen=True, slots=True)
class PathTemplate:
    path: str
    segments: tuple[Segment, ...]

    @property
    def is_static(self) -> bool:
        return all(s.converter is None for s in self.segments)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(s.param for s in self.segments if s.param is not None)

    @property
    def shape(self) -> str:
        return "/" + "/".join(s.shape for s in self.segments)

    def param_types(self) -> dict[str, Converter]:
        return {s.param: s.converter for s in self.segments if s.param and s.converter}


def split_path(path: str) -> list[str]:
    """`/a/b` -> ["a", "b"]; `/` -> [""]; a trailing slash keeps an empty last segment."""
    return path[1:].split("/")


_CONVERTER_SUFFIX = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*):[a-z]+\}")


def openapi_path(path: str) -> str:
    """`/files/{p:path}` -> `/files/{p}` (the path as OpenAPI and FastAPI write it)."""
    return _CONVERTER_SUFFIX.sub(r"{\1}", path)


def join_paths(prefix: str, path: str) -> str:
    """`prefix` + `path`; an empty `path` is the prefix itself (as in FastAPI: a router's
    `get("")` under the prefix "/items" serves "/items", not "/items/")."""
    prefix = prefix.rstrip("/")
    if not path and prefix:
        return prefix
    if not path.startswith("/"):
        path = "/" + path
    return (prefix + path) if prefix else path


def parse_template(path: str) -> PathTemplate:
    """Parse `path`; raise `ConfigurationError` for a template that cannot be served."""
    if not path.startswith("/"):
        raise ConfigurationError(f"route path {path!r} must start with '/'")
    segments: list[Segment] = []
    seen: set[str] = set()
    raw_segments = split_path(path)
    for index, raw in enumerate(raw_segments):
        if "{" not in raw and "}" not in raw:
            segments.append(Segment(literal=raw))
            continue
        match = _PARAM.match(raw)
        if match is None:
            raise ConfigurationError(
                f"route path {path!r}: segment {raw!r} must be a whole '{{name}}' or "
                "'{name:converter}' parameter"
            )
        name, conv_name = match.group(1), match.group(2) or "str"
        converter = CONVERTERS.get(conv_name)
        if converter is None:
            raise ConfigurationError(
                f"route path {path!r}: unknown converter {conv_name!r} "
                f"(known: {', '.join(CONVERTERS)})"
            )
        if name in seen:
            raise ConfigurationError(f"route path {path!r} uses parameter {name!r} twice")
        if conv_name == "path" and index != len(raw_segments) - 1:
            raise ConfigurationError(f"route path {path!r}: a ':path' parameter must be last")
        seen.add(name)
        segments.append(Segment(literal=None, param=name, converter=converter))
    return PathTemplate(path, tuple(segments))
