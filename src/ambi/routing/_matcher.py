"""Finding the route for a request: a dict for static paths, a segment trie for the rest.

Lookup cost depends on the number of segments in the path, not on the number of routes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ..exceptions import RouteConflictError
from ._template import Converter, PathTemplate

T = TypeVar("T")


@dataclass(slots=True)
class _Leaf(Generic[T]):
    """The routes registered at one path shape, by method; param names per route."""

    by_method: dict[str, tuple[T, tuple[str, ...]]] = field(default_factory=dict)
    implicit_head: bool = False

    @property
    def allowed(self) -> set[str]:
        return set(self.by_method)


@dataclass(slots=True)
class _Node(Generic[T]):
    static: dict[str, _Node[T]] = field(default_factory=dict)
    params: list[tuple[Converter, _Node[T]]] = field(default_factory=list)
    catch_all: _Node[T] | None = None
    leaf: _Leaf[T] | None = None

    def child_for(self, converter: Converter | None, literal: str | None) -> _Node[T]:
        if converter is None:
            return self.static.setdefault(literal or "", _Node())
        if converter.name == "path":
            if self.catch_all is None:
                self.catch_all = _Node()
            return self.catch_all
        for conv, node in self.params:
            if conv is converter:
                return node
        node = _Node[T]()
        self.params.append((converter, node))
        self.params.sort(key=lambda item: item[0].priority)
        return node


@dataclass(slots=True)
class Match(Generic[T]):
    """A route found for (method, path): the value registered and the path parameters."""

    value: T
    params: dict[str, Any]


@dataclass(slots=True)
class _Search:
    """What one lookup carries down the trie."""

    method: str
    values: list[Any]
    allowed: set[str]


class MethodNotAllowed:
    """The path is known but not for this method; `allowed` feeds the `Allow` header."""

    __slots__ = ("allowed",)

    def __init__(self, allowed: set[str]) -> None:
        self.allowed = allowed


class Matcher(Generic[T]):
    """Holds every route of an app; answers `match(method, path)`."""

    def __init__(self) -> None:
        self._static: dict[str, _Leaf[T]] = {}
        self._root: _Node[T] = _Node()
        self._shapes: dict[str, str] = {}  # "GET /a/{:int}" -> the template that took it

    def add(self, template: PathTemplate, methods: set[str], value: T) -> None:
        """Register `value` for `methods` at `template`; GET also answers HEAD."""
        for method in methods:
            key = f"{method} {template.shape}"
            taken = self._shapes.get(key)
            if taken is not None:
                raise RouteConflictError(
                    f"{method} {template.path} conflicts with the route already registered "
                    f"at {taken}"
                )
        leaf = self._leaf_for(template)
        for method in methods:
            self._shapes[f"{method} {template.shape}"] = template.path
            leaf.by_method[method] = (value, template.param_names)
        if "HEAD" in methods:
            leaf.implicit_head = False
        elif "GET" in methods and ("HEAD" not in leaf.by_method or leaf.implicit_head):
            leaf.by_method["HEAD"] = (value, template.param_names)
            leaf.implicit_head = True

    def _leaf_for(self, template: PathTemplate) -> _Leaf[T]:
        if template.is_static:
            leaf = self._static.get(template.path)
            if leaf is None:
                leaf = self._static[template.path] = _Leaf()
            return leaf
        node = self._root
        for segment in template.segments:
            node = node.child_for(segment.converter, segment.literal)
        if node.leaf is None:
            node.leaf = _Leaf()
        return node.leaf

    def match(self, method: str, path: str) -> Match[T] | MethodNotAllowed | None:
        """The route for `method` and the (percent-decoded) `path`.

        None means 404; `MethodNotAllowed` means 405.
        """
        # PERF: most requests hit a static path: one dict lookup.
        leaf = self._static.get(path)
        if leaf is not None:
            found = leaf.by_method.get(method)
            if found is not None:
                return Match(found[0], {})
        segments = path[1:].split("/")  # `split_path`, inlined
        values: list[Any] = []
        node = self._root
        index, end = 0, len(segments)
        # PERF: walked in a loop while each node offers one way on (static children only,
        # or one parameter and nothing else): what `_find` does there, without a recursive
        # call a segment; `_find` takes over where there are alternatives to try
        # (bench_instructions "GET /items/{item_id}", bench_realistic's mix).
        while index < end and node.catch_all is None:
            params = node.params
            if not params:
                step = node.static.get(segments[index])
            elif len(params) == 1 and not node.static:
                converter, step = params[0]
                value = converter.convert(segments[index])
                if value is None:
                    step = None
                else:
                    values.append(value)
            else:
                break
            if step is None:
                return MethodNotAllowed(leaf.allowed) if leaf and leaf.by_method else None
            node = step
            index += 1
        if index == end and node.leaf is not None:  # the usual end: the walk found the leaf
            found = node.leaf.by_method.get(method)
            if found is not None:
                return Match(found[0], dict(zip(found[1], values, strict=True)))
        allowed: set[str] = leaf.allowed if leaf is not None else set()
        result = self._find(node, segments, index, _Search(method, values, allowed))
        if result is not None:
            value, names = result
            return Match(value, dict(zip(names, values, strict=True)))
        return MethodNotAllowed(allowed) if allowed else None

    def _find(
        self, node: _Node[T], segments: list[str], index: int, search: _Search
    ) -> tuple[T, tuple[str, ...]] | None:
        if index == len(segments):
            return self._at_leaf(node.leaf, search)
        values = search.values
        segment = segments[index]
        child = node.static.get(segment)
        if child is not None:
            found = self._find(child, segments, index + 1, search)
            if found is not None:
                return found
        for converter, child in node.params:
            value = converter.convert(segment)
            if value is None:
                continue
            values.append(value)
            found = self._find(child, segments, index + 1, search)
            if found is not None:
                return found
            values.pop()
        if node.catch_all is not None:
            values.append("/".join(segments[index:]))
            found = self._at_leaf(node.catch_all.leaf, search)
            if found is not None:
                return found
            values.pop()
        return None

    @staticmethod
    def _at_leaf(leaf: _Leaf[T] | None, search: _Search) -> tuple[T, tuple[str, ...]] | None:
        if leaf is None:
            return None
        found = leaf.by_method.get(search.method)
        if found is None:
            search.allowed.update(leaf.by_method)
        return found
