"""`CacheSpec`: what one `@cache(...)` asked for, checked when it is written."""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import ConfigurationError
from ..execution import classify, shape_of
from ..stores import Store, resolve_store

#: Request headers that carry credentials: a shared entry never answers them.
CREDENTIAL_HEADERS = ("authorization", "cookie")


@dataclass(frozen=True, slots=True)
class TagTemplate:
    """A tag, maybe with `{name}` fields filled from path parameters or arguments."""

    text: str
    fields: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> TagTemplate:
        if not isinstance(text, str) or not text:
            raise ConfigurationError(f"@cache tags are non-empty strings, not {text!r}")
        try:
            parts = list(string.Formatter().parse(text))
        except ValueError as exc:
            raise ConfigurationError(f"@cache tag {text!r}: {exc}") from None
        fields = tuple(name for _, name, _, _ in parts if name is not None)
        if any(not name.isidentifier() for name in fields):
            raise ConfigurationError(
                f"@cache tag {text!r}: fields are plain names, as in 'item:{{item_id}}'"
            )
        return cls(text, fields)

    def render(self, values: Mapping[str, Any]) -> str:
        return self.text.format_map(values) if self.fields else self.text


@dataclass(frozen=True, slots=True)
class CacheSpec:
    """The options of one `@cache`; `fn` is the function it decorates."""

    fn: Callable[..., Any]
    ttl: float
    tags: tuple[TagTemplate, ...] = ()
    vary: tuple[str, ...] = ()
    key: Callable[..., str] | None = None
    private: bool = False
    max_age: int | None = None
    store: Store | None = None
    fields: frozenset[str] = field(default=frozenset())

    @property
    def name(self) -> str:
        return str(getattr(self.fn, "__qualname__", None) or repr(self.fn))


def _check_ttl(ttl: Any) -> float:
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not ttl > 0:
        raise ConfigurationError(f"@cache(ttl=...) is a positive number of seconds, not {ttl!r}")
    return float(ttl)


def _check_vary(vary: Sequence[str]) -> tuple[str, ...]:
    if isinstance(vary, str):
        raise ConfigurationError(f"@cache(vary=...) is a list of header names, not {vary!r}")
    names: list[str] = []
    for name in vary:
        if not isinstance(name, str) or not name or ":" in name or " " in name:
            raise ConfigurationError(f"@cache(vary=...): {name!r} is not a header name")
        lower = name.lower()
        if lower in CREDENTIAL_HEADERS:
            raise ConfigurationError(
                f"@cache(vary=[{name!r}]): requests with credentials are never answered from "
                "a shared entry; use private=True to cache them per credential"
            )
        names.append(lower)
    return tuple(names)


def _check_key(key: Callable[..., str] | None) -> Callable[..., str] | None:
    if key is None:
        return None
    if not callable(key) or shape_of(key).is_async:
        raise ConfigurationError(
            f"@cache(key=...) is a plain function returning a string (it runs inline, on "
            f"every lookup), not {key!r}"
        )
    classify(key, "inline")
    return key


def build_spec(
    fn: Callable[..., Any],
    *,
    ttl: Any,
    tags: Sequence[str],
    vary: Sequence[str],
    key: Callable[..., str] | None,
    private: bool,
    max_age: int | None,
    store: Store | str | None,
) -> CacheSpec:
    """Check every option now: a mistake raises `ConfigurationError` at decoration."""
    if isinstance(tags, str):
        raise ConfigurationError(f"@cache(tags=...) is a list of tags, not the string {tags!r}")
    templates = tuple(TagTemplate.parse(t) for t in tags)
    if max_age is not None and (
        isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 0
    ):
        raise ConfigurationError(f"@cache(max_age=...) is an int >= 0 or None, not {max_age!r}")
    if not isinstance(private, bool):
        raise ConfigurationError(f"@cache(private=...) is True or False, not {private!r}")
    return CacheSpec(
        fn=fn,
        ttl=_check_ttl(ttl),
        tags=templates,
        vary=_check_vary(vary),
        key=_check_key(key),
        private=private,
        max_age=max_age,
        store=None if store is None else resolve_store(store),
        fields=frozenset(f for t in templates for f in t.fields),
    )
