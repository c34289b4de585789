"""Reading annotations: Optional / Annotated unwrapping and FastAPI's inference tests.

Pure functions over types, used by the compiler and the response model; nothing here
runs per request.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel

from ..exceptions import SignatureError
from ..http import Request, WebSocket

SCALARS = (str, int, float, bool, bytes)
_UNIONS = (typing.Union, types.UnionType)


def strip_optional(annotation: Any) -> Any:
    """`T` for `Optional[T]`, `T | None` and `Annotated[T, ...]`."""
    origin = get_origin(annotation)
    if origin in _UNIONS:
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return strip_optional(args[0])
    if origin is Annotated:
        return strip_optional(get_args(annotation)[0])
    return annotation


def is_sequence(annotation: Any) -> bool:
    bare = strip_optional(annotation)
    if bare in (list, set, frozenset, tuple):
        return True
    return get_origin(bare) in (list, set, frozenset, tuple, Sequence)


def is_model_class(annotation: Any) -> bool:
    """A pydantic model class (what a parameter model `Annotated[M, Query()]` takes)."""
    bare = strip_optional(annotation)
    return inspect.isclass(bare) and issubclass(bare, BaseModel)


def is_model_like(annotation: Any) -> bool:
    bare = strip_optional(annotation)
    return inspect.isclass(bare) and (issubclass(bare, BaseModel) or dataclasses.is_dataclass(bare))


def is_body_type(annotation: Any) -> bool:
    """FastAPI's rule: models, dataclasses, dicts and sequences of them are the body."""
    bare = strip_optional(annotation)
    origin = get_origin(bare) or bare
    if is_model_like(bare) or origin in (dict, Mapping):
        return True
    if origin in _UNIONS:
        return any(is_body_type(a) for a in get_args(bare))
    if is_sequence(bare):
        inner = get_args(bare)
        return bool(inner) and not all(strip_optional(a) in SCALARS or a is Ellipsis for a in inner)
    return False


def is_request(name: str, annotation: Any) -> bool:
    """An argument that receives the request itself."""
    if annotation is inspect.Parameter.empty or annotation is Any:
        return name == "request"
    bare = strip_optional(annotation)
    return inspect.isclass(bare) and issubclass(bare, Request)


def is_class(annotation: Any, cls: type) -> bool:
    """Whether `annotation` (Optional / Annotated stripped) is `cls` or a subclass."""
    bare = strip_optional(annotation)
    return inspect.isclass(bare) and issubclass(bare, cls)


def receives_connection(  # noqa: PLR0917 - one private call site
    name: str, annotation: Any, websocket: bool, first: bool, in_path: bool, label: str
) -> bool:
    """Whether an argument receives the connection.

    HTTP routes: the request (`is_request`). Websocket routes: the `WebSocket`, annotated
    so, or unannotated and named `websocket` / `ws`, or `first` (the handler's first
    positional parameter, without a default). The other kind of connection is refused.
    """
    if not websocket:
        if is_class(annotation, WebSocket):
            raise SignatureError(
                f"{label}: {name!r} is a WebSocket, but this is an HTTP route; "
                "register websocket handlers with @app.websocket(path)"
            )
        return is_request(name, annotation)
    if is_class(annotation, Request):
        raise SignatureError(
            f"{label}: {name!r} is a Request, but a websocket route's callables receive a "
            "WebSocket (annotate it `WebSocket`)"
        )
    if annotation is not inspect.Parameter.empty and annotation is not Any:
        return is_class(annotation, WebSocket)
    return not in_path and (first or name in ("websocket", "ws"))


def replace(annotation: Any, old: Any, new: Any) -> Any:
    """`annotation` with `old` replaced by `new` inside Optional / Union / list / set."""
    if annotation is old:
        return new
    origin = get_origin(annotation)
    if origin in _UNIONS:
        return typing.Union[tuple(replace(a, old, new) for a in get_args(annotation))]  # noqa: UP007
    if origin in (list, set, frozenset, Sequence) and get_args(annotation):
        return origin[replace(get_args(annotation)[0], old, new)]
    return annotation


def mentions(annotation: Any, cls: type) -> bool:
    if annotation is cls:
        return True
    origin = get_origin(annotation)
    if origin in (*_UNIONS, list, set, frozenset, Sequence):
        return any(mentions(a, cls) for a in get_args(annotation))
    return False


def _hints_target(fn: Callable[..., Any]) -> Any:
    """The object whose annotations describe calling `fn` (a partial's function, a class's
    `__init__`, an instance's `__call__`)."""
    if isinstance(fn, functools.partial):
        return _hints_target(fn.func)
    if inspect.isfunction(fn) or inspect.ismethod(fn) or inspect.isbuiltin(fn):
        return fn
    if inspect.isclass(fn):
        init = fn.__init__
        return init if inspect.isfunction(init) else None
    if callable(fn):
        return type(fn).__call__
    return fn


def type_hints(fn: Callable[..., Any], label: str) -> dict[str, Any]:
    """`fn`'s resolved annotations (with `Annotated` extras); `SignatureError` if they
    cannot be resolved."""
    target = _hints_target(fn)
    if target is None:
        return {}
    try:
        return typing.get_type_hints(target, include_extras=True)
    except (TypeError, NameError, AttributeError) as exc:
        raise SignatureError(f"{label}: cannot resolve the annotations: {exc}") from exc


def callable_name(fn: Any) -> str:
    """A readable name for a user callable, for error messages and logs."""
    if isinstance(fn, functools.partial):
        return f"partial({callable_name(fn.func)})"
    name = getattr(fn, "__qualname__", None)
    if name is None:
        name = f"{type(fn).__qualname__} instance"
    return str(name)
