"""`@smartasync`: the decorator, its function, method and bound forms."""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, Protocol, TypeVar, overload

from ..exceptions import BridgeError, ConfigurationError
from ..execution import SHAPE_ATTRIBUTE, Shape, is_awaitable, shape_of
from ._loops import (
    _await,
    _get_ident,
    _last,
    _loop_thread_error,
    _on_loop_thread,
    _run,
)
from ._run_sync import run_sync
from ._sessions import SyncContextManager, SyncIterator, _adapt_result, _from_sync
from ._timeouts import _check_timeout, _timed

if TYPE_CHECKING:
    from typing import Self

P = ParamSpec("P")
P2 = ParamSpec("P2")
T = TypeVar("T")
Y = TypeVar("Y")
S = TypeVar("S")  # what `.sync()` gives
A = TypeVar("A")  # what `.aio()` gives

_CoroutineType = types.CoroutineType
_new_bound = object.__new__


_CORO = "coroutine"  # returns an awaitable
_ASYNC_OBJECT = "async object"  # returns an async generator or async context manager
_SYNC = "sync"  # a plain function: an async caller gets it run in a thread


def _classify(fn: Callable[..., Any]) -> tuple[str, Shape]:
    """The bridge's kind of `fn`, from ambi.execution's shape of it (the outermost callable
    decides: a sync wrapper around an async function is sync, and its result is adapted)."""
    shape = shape_of(fn)
    if shape is Shape.COROUTINE:
        return _CORO, shape
    if shape is Shape.ASYNC_GENERATOR or shape is Shape.ASYNC_CONTEXT:
        return _ASYNC_OBJECT, shape
    return _SYNC, shape


def _accepts_timeout(fn: Callable[..., Any]) -> bool:
    """Whether `fn` itself can take a `timeout=` keyword (then the bridge never takes it)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True  # unknown: pass it through rather than steal it
    return any(
        (p.name == "timeout" and p.kind is not p.POSITIONAL_ONLY) or p.kind is p.VAR_KEYWORD
        for p in params
    )


class _SmartBase(Generic[P, S, A]):
    """What every form shares: the call in both worlds, `.sync()`, `.aio()`."""

    __name__: str  # these three copied from the function by functools.update_wrapper
    __qualname__: str
    __wrapped__: Callable[..., Any]
    _fn: Callable[..., Any]
    _kind: str
    _name: str
    _timeout: float | None
    _own_timeout: bool
    _direct: bool
    _fast: Callable[..., Any] | None

    def __init__(self, fn: Callable[..., Any], timeout: float | None) -> None:
        if not callable(fn):
            raise ConfigurationError(f"smartasync needs a callable, not {fn!r}")
        functools.update_wrapper(self, fn)  # first: it copies fn.__dict__ over ours
        self._fn = fn
        self._kind, shape = _classify(fn)
        # Declared for ambi.execution: a worker calls it like `fn` (a plain function runs
        # in the pool), the loop awaits or iterates what it gives.
        setattr(self, SHAPE_ATTRIBUTE, shape)
        self._name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
        self._timeout = _check_timeout(timeout)
        self._own_timeout = _accepts_timeout(fn)
        if self._kind == _SYNC and self._timeout is not None:
            raise ConfigurationError(
                f"timeout given for {self._name}, a sync function: a thread cannot be "
                "cancelled; give the timeout to what it waits on"
            )
        # PERF: async callers of a plain coroutine function get fn(...) with no other work.
        self._direct = self._kind == _CORO and self._timeout is None
        self._fast = fn if self._direct else None  # what a bound method's fast path calls

    def __repr__(self) -> str:
        return f"<smartasync {self._name}>"

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Any:
        """From async code: the coroutine (async generator, ...). From sync code: the result."""
        # PERF: the fast branch of _on_loop_thread() inlined (a frame less); the common
        # async call (no keywords, no timeout) then does no other work. benchmarks/bench_bridge.py.
        try:
            on_loop = _last.loop._thread_id == _get_ident()
        except AttributeError:
            on_loop = False
        if on_loop or _on_loop_thread():
            if not kwargs and self._direct:
                return self._fn(*args)
            return self._call_async(args, kwargs)
        return self._call_sync(args, kwargs)

    def sync(self, *args: P.args, **kwargs: P.kwargs) -> S:
        """Run it and return its result; never a coroutine. Raises on a loop thread."""
        if self._kind != _SYNC and _on_loop_thread():
            raise _loop_thread_error(f"{self._name}.sync()", self._name)
        result: S = self._call_sync(args, kwargs)
        return result

    def aio(self, *args: P.args, **kwargs: P.kwargs) -> A:
        """The awaitable (coroutine, async generator, async context manager); never runs it."""
        result: A = self._call_async(args, kwargs)
        return result

    def _pop_timeout(self, kwargs: dict[str, Any]) -> float | None:
        if "timeout" in kwargs and not self._own_timeout:
            return _check_timeout(kwargs.pop("timeout"))
        return self._timeout

    def _call_sync(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        timeout = self._pop_timeout(kwargs) if kwargs else self._timeout
        kind = self._kind
        if kind == _CORO:
            aw = self._fn(*args, **kwargs)
            # PERF: an exact type check first; other awaitables (rare) get a wrapper.
            if type(aw) is _CoroutineType:
                return _run(aw, timeout, self._name)
            if is_awaitable(aw):
                return _run(_await(aw), timeout, self._name)
            return aw  # a marked function gave a value: that is the result
        if kind == _SYNC:
            # A sync wrapper may give an awaitable or an async object: run or adapt it.
            return _adapt_result(self._fn(*args, **kwargs), self._name)
        return _from_sync(self._fn(*args, **kwargs), timeout, self._name)

    def _call_async(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        timeout = self._pop_timeout(kwargs) if kwargs else self._timeout
        kind = self._kind
        if kind == _CORO:
            aw = self._fn(*args, **kwargs)
            return aw if timeout is None else _timed(aw, timeout, self._name)
        if kind == _SYNC:
            return run_sync(self._fn, *args, **kwargs)
        if timeout is not None:
            raise BridgeError(
                f"timeout= bounds each sync step of {self._name}; in async code wrap the "
                "iteration or the `async with` in `asyncio.timeout()`"
            )
        return self._fn(*args, **kwargs)

    def _with_timeout(self, seconds: float | None) -> Self:
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._timeout = _check_timeout(seconds)
        clone._direct = clone._kind == _CORO and clone._timeout is None
        clone._fast = clone._fn if clone._direct else None
        return clone

    def with_timeout(self, seconds: float | None) -> Self:
        """The same function with another timeout (None: none), for every kind of call."""
        if self._kind == _SYNC and seconds is not None:
            raise ConfigurationError(f"timeout given for {self._name}, a sync function")
        return self._with_timeout(seconds)


class SmartFunction(_SmartBase[P, S, A]):
    """`@smartasync` on a function (or an instance method: it binds like one)."""

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None) -> Self: ...
    @overload
    def __get__(
        self: SmartFunction[Concatenate[Any, P2], S, A],
        instance: object,
        owner: type[Any] | None = None,
    ) -> BoundSmartFunction[P2, S, A]: ...
    def __get__(self, instance: object, owner: type[Any] | None = None) -> Any:
        if instance is None:
            return self
        # PERF: no __init__ frame: this runs on every `obj.method` lookup.
        bound = _new_bound(BoundSmartFunction)
        bound.__func__ = self
        bound.__self__ = instance
        bound._fast = self._fast
        return bound


class SmartClassMethod(_SmartBase[Concatenate[Any, P], S, A]):
    """`@smartasync` above `@classmethod`: binds the class."""

    def __get__(
        self, instance: object, owner: type[Any] | None = None
    ) -> BoundSmartFunction[P, S, A]:
        return BoundSmartFunction(self, owner if owner is not None else type(instance))


class SmartStaticMethod(_SmartBase[P, S, A]):
    """`@smartasync` above `@staticmethod`: binds nothing."""

    def __get__(self, instance: object, owner: type[Any] | None = None) -> Self:
        return self


class _FromFunction:
    """An attribute of `obj.method` that is its function's, as for a plain bound method.

    # PERF: not `__getattr__`, which would make every attribute read of the bound object
    # take the slow path (3.5x per read; benchmarks/bench_bridge.py, async callers, method).
    """

    def __init__(self, on_class: str | None) -> None:
        self.on_class = on_class

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: BoundSmartFunction[Any, Any, Any] | None, owner: type) -> Any:
        if instance is None:
            return self.on_class
        return getattr(instance.__func__, self.name)


class BoundSmartFunction(Generic[P, S, A]):
    __doc__ = _FromFunction("A smartasync method bound to its instance (or class).")
    __name__ = _FromFunction("BoundSmartFunction")
    _ambi_shape = _FromFunction(None)  # SHAPE_ATTRIBUTE: what calling it gives
    __slots__ = ("__func__", "__self__", "_fast")

    def __init__(self, func: _SmartBase[Any, S, A], obj: object) -> None:
        self.__func__ = func
        self.__self__ = obj
        self._fast = func._fast

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Any:
        # PERF: the fast branch of _on_loop_thread() inlined, and the function to call on
        # that path kept on the bound object itself: one slot read, no attribute lookups.
        try:
            on_loop = _last.loop._thread_id == _get_ident()
        except AttributeError:
            on_loop = False
        if on_loop or _on_loop_thread():
            fast = self._fast
            if fast is not None and not kwargs:
                return fast(self.__self__, *args)
            return self.__func__._call_async((self.__self__, *args), kwargs)
        return self.__func__._call_sync((self.__self__, *args), kwargs)

    def sync(self, *args: P.args, **kwargs: P.kwargs) -> S:
        """Run it and return its result; never a coroutine. Raises on a loop thread."""
        return self.__func__.sync(self.__self__, *args, **kwargs)

    def aio(self, *args: P.args, **kwargs: P.kwargs) -> A:
        """The awaitable (coroutine, async generator, async context manager); never runs it."""
        return self.__func__.aio(self.__self__, *args, **kwargs)

    def with_timeout(self, seconds: float | None) -> BoundSmartFunction[P, S, A]:
        """The same method with another timeout (None: none)."""
        return BoundSmartFunction(self.__func__.with_timeout(seconds), self.__self__)

    @property
    def __wrapped__(self) -> Callable[P, Any]:
        """The plain bound method, for `inspect.signature` and ambi's classifier."""
        return types.MethodType(self.__func__._fn, self.__self__)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BoundSmartFunction):
            return NotImplemented
        return self.__func__ is other.__func__ and self.__self__ is other.__self__

    def __hash__(self) -> int:
        return hash((id(self.__func__), id(self.__self__)))

    def __repr__(self) -> str:
        return f"<bound smartasync {self.__func__._name} of {self.__self__!r}>"


class _Decorator(Protocol):
    @overload
    def __call__(
        self, fn: classmethod[Any, P, Coroutine[Any, Any, T]], /
    ) -> SmartClassMethod[P, T, Coroutine[Any, Any, T]]: ...
    @overload
    def __call__(  # type: ignore[overload-overlap]
        self, fn: staticmethod[P, Coroutine[Any, Any, T]], /
    ) -> SmartStaticMethod[P, T, Coroutine[Any, Any, T]]: ...
    @overload
    def __call__(
        self, fn: Callable[P, Coroutine[Any, Any, T]], /
    ) -> SmartFunction[P, T, Coroutine[Any, Any, T]]: ...
    @overload
    def __call__(  # type: ignore[overload-overlap]
        self, fn: Callable[P, AbstractAsyncContextManager[T]], /
    ) -> SmartFunction[P, SyncContextManager[T], AbstractAsyncContextManager[T]]: ...
    @overload
    def __call__(  # type: ignore[overload-overlap]
        self, fn: Callable[P, AsyncIterator[Y]], /
    ) -> SmartFunction[P, SyncIterator[Y], AsyncIterator[Y]]: ...
    @overload
    def __call__(self, fn: Callable[P, T], /) -> SmartFunction[P, T, Coroutine[Any, Any, T]]: ...


# The overlaps mypy reports are intended: the first matching form wins (an async
# generator function is also "a callable returning something").
@overload
def smartasync(
    fn: classmethod[Any, P, Coroutine[Any, Any, T]], /, *, timeout: float | None = None
) -> SmartClassMethod[P, T, Coroutine[Any, Any, T]]: ...
@overload
def smartasync(  # type: ignore[overload-overlap]
    fn: staticmethod[P, Coroutine[Any, Any, T]], /, *, timeout: float | None = None
) -> SmartStaticMethod[P, T, Coroutine[Any, Any, T]]: ...
@overload
def smartasync(
    fn: Callable[P, Coroutine[Any, Any, T]], /, *, timeout: float | None = None
) -> SmartFunction[P, T, Coroutine[Any, Any, T]]: ...
@overload
def smartasync(  # type: ignore[overload-overlap]
    fn: Callable[P, AbstractAsyncContextManager[T]], /, *, timeout: float | None = None
) -> SmartFunction[P, SyncContextManager[T], AbstractAsyncContextManager[T]]: ...
@overload
def smartasync(  # type: ignore[overload-overlap]
    fn: Callable[P, AsyncIterator[Y]], /, *, timeout: float | None = None
) -> SmartFunction[P, SyncIterator[Y], AsyncIterator[Y]]: ...
@overload
def smartasync(
    fn: Callable[P, T], /, *, timeout: float | None = None
) -> SmartFunction[P, T, Coroutine[Any, Any, T]]: ...
@overload
def smartasync(fn: None = None, /, *, timeout: float | None = None) -> _Decorator: ...
def smartasync(fn: Any = None, /, *, timeout: float | None = None) -> Any:
    """Make one async implementation callable from sync code (no `await`) and async code.

    `@smartasync` or `@smartasync(timeout=seconds)`, on an `async def` function or method,
    an async generator function, an `@asynccontextmanager` function, or a plain `def`.
    Above `@classmethod` / `@staticmethod` it binds like them. See the module docstring.
    """
    if fn is None:
        return functools.partial(smartasync, timeout=timeout)
    if isinstance(fn, _SmartBase):  # decorated twice: one is enough
        return fn if timeout is None else fn.with_timeout(timeout)
    if isinstance(fn, classmethod):
        return SmartClassMethod(fn.__func__, timeout)
    if isinstance(fn, staticmethod):
        return SmartStaticMethod(fn.__func__, timeout)
    if isinstance(fn, type):
        raise ConfigurationError(
            f"smartasync decorates functions and methods, not the class {fn.__qualname__}; "
            "decorate its async methods instead"
        )
    return SmartFunction(fn, timeout)
