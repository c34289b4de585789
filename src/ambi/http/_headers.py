"""Case-insensitive, multi-valued headers, query parameters and cookies."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from http.cookies import SimpleCookie
from typing import TypeVar, overload
from urllib.parse import parse_qsl

T = TypeVar("T")


class Headers(Mapping[str, str]):
    """Read-only request headers. Names are matched case-insensitively; `getlist` gives all."""

    __slots__ = ("_index", "_items")

    def __init__(
        self, items: Sequence[tuple[str, str]] = (), index: dict[str, str] | None = None
    ) -> None:
        """`index`, when given, is `dict(items)` for items in which no name comes twice
        (what `_lookup` would build; a request has made it already)."""
        # Names are stored lower-cased, as both ASGI and Granian already give them.
        self._items = list(items)
        self._index = index

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, str]) -> Headers:
        return cls([(k.lower(), v) for k, v in mapping.items()])

    def _lookup(self) -> dict[str, str]:
        index = self._index
        if index is None:
            index = {}
            for name, value in self._items:
                if name in index:  # repeated header: comma-join, as RFC 9110 allows
                    index[name] = f"{index[name]}, {value}" if name != "cookie" else value
                else:
                    index[name] = value
            self._index = index
        return index

    def __getitem__(self, key: str) -> str:
        return self._lookup()[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._lookup()

    def __iter__(self) -> Iterator[str]:
        return iter(self._lookup())

    def __len__(self) -> int:
        return len(self._lookup())

    @overload
    def get(self, key: str, /) -> str | None: ...
    @overload
    def get(self, key: str, default: str, /) -> str: ...
    @overload
    def get(self, key: str, default: T, /) -> str | T: ...
    def get(self, key: str, default: object = None, /) -> object:
        return self._lookup().get(key.lower(), default)

    def getlist(self, key: str) -> list[str]:
        key = key.lower()
        return [v for k, v in self._items if k == key]

    def raw(self) -> list[tuple[str, str]]:
        return list(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


class MutableHeaders(Headers):
    """Response headers: case-insensitive, ordered, editable; `add` appends a repeat."""

    __slots__ = ()

    def __setitem__(self, key: str, value: str) -> None:
        name = key.lower()
        self._items = [(k, v) for k, v in self._items if k != name]
        self._items.append((name, value))
        self._index = None

    def __delitem__(self, key: str) -> None:
        name = key.lower()
        self._items = [(k, v) for k, v in self._items if k != name]
        self._index = None

    def add(self, key: str, value: str) -> None:
        self._items.append((key.lower(), value))
        self._index = None

    def extend(self, items: Iterable[tuple[str, str]]) -> None:
        """Append headers whose names are lower-case already, in one call (repeats kept)."""
        self._items.extend(items)
        self._index = None

    def extend_absent(self, items: Iterable[tuple[str, str]], names: frozenset[str]) -> bool:
        """Append `items` (lower-case names) when no header named in `names` is there yet,
        and say so; False (nothing added) when one is. PERF: the layers' usual case in one
        call (`ambi.middleware._headers.put_headers`; bench_realistic's mix)."""
        current = self._items
        for key, _ in current:
            if key in names:
                return False
        current.extend(items)
        self._index = None
        return True

    def setdefault(self, key: str, value: str) -> str:
        current = self.get(key)
        if current is None:
            self[key] = value
            return value
        return current

    def update(self, other: Mapping[str, str]) -> None:
        for key, value in other.items():
            self[key] = value

    @property
    def items_list(self) -> list[tuple[str, str]]:
        """The live list sent on the wire."""
        return self._items


class QueryParams(Mapping[str, str]):
    """Query string parameters; `params["k"]` is the last value, `getlist("k")` every one."""

    __slots__ = ("_dict", "_items")

    def __init__(self, query_string: str = "") -> None:
        if not query_string:
            self._items: list[tuple[str, str]] = []
        elif "%" in query_string or "+" in query_string or ";" in query_string:
            self._items = parse_qsl(query_string, keep_blank_values=True)
        else:
            # PERF: nothing to unescape: split by hand (1.5 vs 2.2 µs for "q=x&limit=3"),
            # in a plain loop (no comprehension frames: bench_instructions "GET /items").
            items = self._items = []
            for pair in query_string.split("&"):
                if pair:
                    key, _, value = pair.partition("=")
                    items.append((key, value))
        self._dict = dict(self._items)

    def __getitem__(self, key: str) -> str:
        return self._dict[key]

    @overload
    def get(self, key: str, /) -> str | None: ...
    @overload
    def get(self, key: str, default: str, /) -> str: ...
    @overload
    def get(self, key: str, default: T, /) -> str | T: ...
    def get(self, key: str, default: object = None, /) -> object:
        return self._dict.get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def getlist(self, key: str) -> list[str]:
        return [v for k, v in self._items if k == key]

    def multi_items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def __repr__(self) -> str:
        return f"QueryParams({self._items!r})"


def parse_cookies(header: str) -> dict[str, str]:
    """The `Cookie` request header as a dict; malformed pairs are skipped, not fatal."""
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        name, sep, value = chunk.partition("=")
        name = name.strip()
        if not sep or not name:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        cookies[name] = value
    return cookies


def format_set_cookie(key: str, value: str, **attrs: str | int | bool | None) -> str:
    """One `Set-Cookie` header value (validates the name and quotes the value if needed)."""
    jar: SimpleCookie = SimpleCookie()
    jar[key] = value
    morsel = jar[key]
    for attr, attr_value in attrs.items():
        if attr_value is None or attr_value is False:
            continue
        morsel[attr.replace("_", "-")] = attr_value
    return morsel.OutputString()
