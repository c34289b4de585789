"""The `@cache(...)` decorator."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, overload

from ..exceptions import ConfigurationError
from ..execution import Shape, shape_of
from ..stores import Store
from ._functions import function_wrapper
from ._spec import build_spec

F = TypeVar("F", bound=Callable[..., Any])


@overload
def cache(fn: F, /) -> F: ...
@overload
def cache(
    *,
    ttl: float = 60,
    tags: Sequence[str] = (),
    vary: Sequence[str] = (),
    key: Callable[..., str] | None = None,
    private: bool = False,
    max_age: int | None = None,
    store: Store | str | None = None,
) -> Callable[[F], F]: ...
def cache(
    fn: Any = None,
    /,
    *,
    ttl: float = 60,
    tags: Sequence[str] = (),
    vary: Sequence[str] = (),
    key: Callable[..., str] | None = None,
    private: bool = False,
    max_age: int | None = None,
    store: Store | str | None = None,
) -> Any:
    """Cache what a route answers, or what a function returns, for `ttl` seconds.

    Under a route decorator (`@app.get(...)` above `@cache(...)`), on `def` and `async def`
    handlers alike: see `ambi.cache` for the key, who is answered from an entry, ETag/304
    and Cache-Control. On any other function: its return value, keyed by its arguments
    (their JSON form) or by `key(*args, **kwargs)`.

    - `tags`: names for `invalidate(tags=[...])`; `{name}` fields are filled from the
      route's path parameters (or the function's arguments): `"item:{item_id}"`.
    - `vary`: request headers whose values are part of the key (routes).
    - `key`: a plain function giving the entry's name (routes: `key(request)`), used
      instead of path + query; `invalidate(key=name)` deletes it.
    - `private`: cache requests that carry credentials (`Authorization`, `Cookie`) too,
      keyed by them; by default such requests are never answered from the cache.
    - `max_age`: the `Cache-Control: max-age` sent; default the seconds the entry has left.
    - `store`: a `Store` or a URL; default the app's (`app.enable_cache`), for functions
      one in-memory store per process.

    Every option is checked here: a wrong one raises `ConfigurationError`.
    """

    def decorate(function: F) -> F:
        if hasattr(function, "__ambi_cache__"):
            raise ConfigurationError(f"@cache is applied twice to {function!r}")
        shape = shape_of(function)
        if shape is Shape.GENERATOR or shape is Shape.ASYNC_GENERATOR:
            raise ConfigurationError(f"@cache cannot cache the generator function {function!r}")
        try:
            signature = inspect.signature(function)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"@cache: cannot read {function!r}'s signature") from exc
        spec = build_spec(
            function,
            ttl=ttl,
            tags=tags,
            vary=vary,
            key=key,
            private=private,
            max_age=max_age,
            store=store,
        )
        wrapper = function_wrapper(spec, shape is Shape.COROUTINE)
        functools.update_wrapper(wrapper, function)
        wrapper.__signature__ = signature  # type: ignore[attr-defined]
        wrapper.__ambi_cache__ = spec  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    if fn is not None:
        return decorate(fn)
    return decorate
