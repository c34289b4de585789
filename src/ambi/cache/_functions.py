"""`@cache` on functions that are not routes: return values cached by arguments."""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from pydantic import BaseModel, TypeAdapter

from ..bridge import smartasync
from ..exceptions import ConfigurationError, StoreError
from ..http import Request
from ..stores import MemoryStore, Store, TagStamp
from ._flight import Flights, SyncFlights
from ._registry import (
    default_store,
    key_name,
    release_outside_apps,
    store_failed,
    tag_name,
    track,
)
from ._spec import CacheSpec

_UNSET: Any = object()
LONG_KEY = 200  # arguments longer than this (as JSON) are keyed by their hash


def takes_request(signature: inspect.Signature) -> bool:
    """Whether a function takes the request (so it is a handler: it has no key of its own)."""
    for parameter in signature.parameters.values():
        annotation = parameter.annotation
        if parameter.name == "request" and annotation in (inspect.Parameter.empty, "Request"):
            return True
        if inspect.isclass(annotation) and issubclass(annotation, Request):
            return True
    return False


def _json_key_part(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(type(value).__name__)


class _Keys:
    """A call's store key and tags, from its arguments (or the spec's `key=` function)."""

    __slots__ = ("prefix", "signature", "spec")

    def __init__(self, spec: CacheSpec, signature: inspect.Signature) -> None:
        self.spec = spec
        self.signature = signature
        fn = spec.fn
        self.prefix = f"fn:{getattr(fn, '__module__', '')}.{spec.name}:"

    def __call__(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, list[str]]:
        spec = self.spec
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = bound.arguments
        tags: list[str] = []
        if spec.key is not None:
            name = spec.key(*args, **kwargs)
            if not isinstance(name, str):
                raise TypeError(f"@cache key function returned {type(name).__name__}, not str")
            key = f"{self.prefix}={name}"
            tags.append(key_name(name))
        else:
            try:
                payload = orjson.dumps(arguments, default=_json_key_part).decode()
            except TypeError as exc:
                raise TypeError(
                    f"@cache on {spec.name}: cannot make a key of its arguments ({exc}); "
                    "pass key=lambda ...: '...'"
                ) from None
            if len(payload) > LONG_KEY:
                payload = "#" + hashlib.sha256(payload.encode()).hexdigest()
            key = self.prefix + payload
        for template in spec.tags:
            try:
                tags.append(tag_name(template.render(arguments)))
            except KeyError as exc:
                raise TypeError(
                    f"@cache tag {template.text!r} names {exc}, which {spec.name} does not take"
                ) from None
        return key, tags


def _return_type(fn: Callable[..., Any]) -> Any:
    """`fn`'s return annotation, resolved (and only it: the parameters may name types
    that cannot be resolved here)."""
    target = inspect.unwrap(fn)
    annotation = inspect.get_annotations(target).get("return", Any)
    if not isinstance(annotation, str):
        return annotation
    holder = types.SimpleNamespace(__annotations__={"return": annotation})
    try:
        return typing.get_type_hints(holder, globalns=getattr(target, "__globals__", {}))["return"]
    except (NameError, TypeError, SyntaxError) as exc:
        raise ConfigurationError(f"@cache: cannot resolve {fn!r}'s return type: {exc}") from exc


class _Codec:
    """Values as JSON bytes: rebuilt through the return annotation (a model comes back a
    model); without one, only values that JSON gives back unchanged are cached."""

    __slots__ = ("_adapter", "fn")

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self._adapter: TypeAdapter[Any] | None = _UNSET

    def adapter(self) -> TypeAdapter[Any] | None:
        if self._adapter is _UNSET:
            hint = _return_type(self.fn)
            self._adapter = None if hint is Any else TypeAdapter(hint)
        return self._adapter

    def dumps(self, value: Any) -> bytes:
        adapter = self.adapter()
        if adapter is not None:
            return adapter.dump_json(value)
        raw = orjson.dumps(value)
        back = orjson.loads(raw)
        if type(back) is not type(value) or back != value:
            raise TypeError(
                f"@cache: {type(value).__name__} result of {self.fn!r} does not survive JSON "
                "unchanged; annotate the return type so it can be rebuilt"
            )
        return raw

    def loads(self, raw: bytes) -> Any:
        adapter = self.adapter()
        return orjson.loads(raw) if adapter is None else adapter.validate_json(raw)


# Store calls for sync code: direct on a MemoryStore, else through the bridge. -----------


@smartasync
async def _get(store: Store, key: str) -> bytes | None:
    try:
        return await store.get(key)
    finally:
        await release_outside_apps(store)


@smartasync
async def _stamp(store: Store, tags: Sequence[str]) -> TagStamp:
    try:
        return await store.tag_stamp(tags)
    finally:
        await release_outside_apps(store)


@smartasync
async def _set(
    store: Store, key: str, value: bytes, *, ttl: float, tags: list[str], stamp: Any
) -> bool:
    try:
        return await store.set(key, value, ttl, tags=tags, stamp=stamp)
    finally:
        await release_outside_apps(store)


def _sync_get(store: Store, key: str) -> bytes | None:
    try:
        return store.get_now(key) if isinstance(store, MemoryStore) else _get.sync(store, key)
    except StoreError as exc:
        store_failed(store, "lookup", exc)
        return None


def _sync_put(
    store: Store, key: str, value: bytes, *, ttl: float, tags: list[str], stamp: Any
) -> None:
    try:
        if isinstance(store, MemoryStore):
            store.set_now(key, value, ttl, tags=tags, stamp=stamp)
        else:
            _set.sync(store, key, value, ttl=ttl, tags=tags, stamp=stamp)
    except StoreError as exc:
        store_failed(store, "store", exc)


def _sync_stamp(store: Store, tags: list[str]) -> TagStamp | None:
    try:
        return (
            store.tag_stamp_now(tags)
            if isinstance(store, MemoryStore)
            else _stamp.sync(store, tags)
        )
    except StoreError as exc:
        store_failed(store, "tag lookup", exc)
        return None


async def _async_get(store: Store, key: str) -> bytes | None:
    try:
        return await store.get(key)
    except StoreError as exc:
        store_failed(store, "lookup", exc)
        return None


async def _async_stamp(store: Store, tags: list[str]) -> TagStamp | None:
    try:
        return await store.tag_stamp(tags)
    except StoreError as exc:
        store_failed(store, "tag lookup", exc)
        return None


async def _async_put(
    store: Store, key: str, value: bytes, *, ttl: float, tags: list[str], stamp: TagStamp
) -> None:
    try:
        await store.set(key, value, ttl, tags=tags, stamp=stamp)
    except StoreError as exc:
        store_failed(store, "store", exc)


def _store_of(spec: CacheSpec) -> Store:
    return track(spec.store) if spec.store is not None else default_store()


def function_wrapper(spec: CacheSpec, is_async: bool) -> Callable[..., Any]:
    """The function `@cache` returns: `spec.fn` with its return values cached."""
    fn = spec.fn
    signature = inspect.signature(fn)
    if takes_request(signature):
        return _passthrough(fn, is_async)  # a handler: cached as a route, not by arguments
    keys, codec = _Keys(spec, signature), _Codec(fn)
    if is_async:
        return _async_wrapper(spec, keys, codec)
    return _sync_wrapper(spec, keys, codec)


def _passthrough(fn: Callable[..., Any], is_async: bool) -> Callable[..., Any]:
    if is_async:

        async def call_async(*args: Any, **kwargs: Any) -> Any:
            return await fn(*args, **kwargs)

        return call_async

    def call(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return call


def _async_wrapper(spec: CacheSpec, keys: _Keys, codec: _Codec) -> Callable[..., Any]:
    fn, ttl = spec.fn, spec.ttl
    flights: Flights[bytes] = Flights()

    async def cached(*args: Any, **kwargs: Any) -> Any:
        key, tags = keys(args, kwargs)
        store = _store_of(spec)
        raw = await _async_get(store, key)
        if raw is not None:
            return codec.loads(raw)
        leader, future = flights.join(key)
        if not leader and future is not None:
            shared = await asyncio.shield(future)
            return await fn(*args, **kwargs) if shared is None else codec.loads(shared)
        encoded: bytes | None = None
        try:
            stamp = await _async_stamp(store, tags)
            value = await fn(*args, **kwargs)
            encoded = codec.dumps(value)
            if stamp is not None:
                await _async_put(store, key, encoded, ttl=ttl, tags=tags, stamp=stamp)
            return value
        finally:
            flights.done(key, future, encoded)

    return cached


def _sync_wrapper(spec: CacheSpec, keys: _Keys, codec: _Codec) -> Callable[..., Any]:
    fn, ttl = spec.fn, spec.ttl
    flights: SyncFlights[bytes] = SyncFlights()

    def cached(*args: Any, **kwargs: Any) -> Any:
        key, tags = keys(args, kwargs)
        store = _store_of(spec)
        raw = _sync_get(store, key)
        if raw is not None:
            return codec.loads(raw)
        leader, call = flights.wait_or_lead(key)
        if not leader:
            shared = call.result
            return fn(*args, **kwargs) if shared is None else codec.loads(shared)
        encoded: bytes | None = None
        try:
            stamp = _sync_stamp(store, tags)
            value = fn(*args, **kwargs)
            encoded = codec.dumps(value)
            if stamp is not None:
                _sync_put(store, key, encoded, ttl=ttl, tags=tags, stamp=stamp)
            return value
        finally:
            flights.done(key, call, encoded)

    return cached
