"""Parameter markers (`Query`, `Path`, `Header`, `Cookie`, `Body`, `Form`, `File`) and
pydantic's `BaseModel` / `Field`, with the pydantic v1 spellings the seed documents use.

A marker is used as a default (`n: int = Query(100, ge=2)`) or inside `Annotated`
(`n: Annotated[int, Query(ge=2)] = 100`). `...` (the default default) means required.

The markers are classes at run time (`QueryParam`, `PathParam`, ...: `Query is QueryParam`),
but type checkers see functions returning `Any`, as with FastAPI, so that
`n: int = Query(100)` type-checks.

Options every marker takes: `alias`, `title`, `description`, `examples`,
`openapi_examples` (FastAPI's: named OpenAPI examples of a parameter or body,
`{"name": {"summary": ..., "value": ...}}`), `deprecated`, `include_in_schema`,
`default_factory`, the constraints `gt ge lt le multiple_of min_length max_length
pattern`, and the older spellings `regex` (= `pattern`), `min_items` (= `min_length`)
and `max_items` (= `max_length`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict, Unpack

import pydantic
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from .exceptions import ConfigurationError

__all__ = [
    "BaseModel",
    "Body",
    "BodyParam",
    "Cookie",
    "CookieParam",
    "Depends",
    "DependsParam",
    "Field",
    "File",
    "FileParam",
    "Form",
    "FormParam",
    "Header",
    "HeaderParam",
    "Param",
    "ParamOptions",
    "Path",
    "PathParam",
    "Query",
    "QueryParam",
    "Security",
    "SecurityParam",
    "SecurityScopes",
]


def _v1_spellings(
    kwargs: dict[str, Any], regex: str | None, min_items: int | None, max_items: int | None
) -> dict[str, Any]:
    if regex is not None:
        kwargs.setdefault("pattern", regex)
    if min_items is not None:
        kwargs.setdefault("min_length", min_items)
    if max_items is not None:
        kwargs.setdefault("max_length", max_items)
    return kwargs


def Field(
    default: Any = PydanticUndefined,
    *,
    regex: str | None = None,
    min_items: int | None = None,
    max_items: int | None = None,
    **kwargs: Any,
) -> Any:
    """pydantic's `Field`, also taking the v1 names `regex`, `min_items` and `max_items`."""
    if default is ...:
        default = PydanticUndefined
    return pydantic.Field(default, **_v1_spellings(kwargs, regex, min_items, max_items))


class ParamOptions(TypedDict, total=False):
    """The keyword options every marker accepts."""

    default_factory: Any
    alias: str | None
    title: str | None
    description: str | None
    examples: list[Any] | None
    openapi_examples: dict[str, dict[str, Any]] | None
    deprecated: bool | None
    include_in_schema: bool
    gt: float | None
    ge: float | None
    lt: float | None
    le: float | None
    multiple_of: float | None
    min_length: int | None
    max_length: int | None
    pattern: str | None
    regex: str | None
    min_items: int | None
    max_items: int | None


class HeaderOptions(ParamOptions, total=False):
    convert_underscores: bool


class BodyOptions(ParamOptions, total=False):
    embed: bool
    media_type: str


class FileOptions(ParamOptions, total=False):
    max_size: int | str | None


def _check_openapi_examples(examples: Any) -> dict[str, dict[str, Any]] | None:
    if examples is None:
        return None
    if not isinstance(examples, dict) or not all(
        isinstance(k, str) and isinstance(v, dict) for k, v in examples.items()
    ):
        raise ConfigurationError(
            f"openapi_examples takes {{name: {{'summary': ..., 'value': ...}}}}, not {examples!r}"
        )
    return examples


class Param:
    """Where a handler argument comes from, with its validation rules and documentation."""

    source = "query"

    def __init__(
        self,
        default: Any = ...,
        *,
        default_factory: Any = None,
        alias: str | None = None,
        title: str | None = None,
        description: str | None = None,
        examples: list[Any] | None = None,
        openapi_examples: dict[str, dict[str, Any]] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        gt: float | None = None,
        ge: float | None = None,
        lt: float | None = None,
        le: float | None = None,
        multiple_of: float | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        pattern: str | None = None,
        regex: str | None = None,
        min_items: int | None = None,
        max_items: int | None = None,
    ) -> None:
        self.default = default
        self.default_factory = default_factory
        self.alias = alias
        self.title = title
        self.description = description
        self.examples = examples
        self.openapi_examples = _check_openapi_examples(openapi_examples)
        self.deprecated = deprecated
        self.include_in_schema = include_in_schema
        given = {
            "gt": gt,
            "ge": ge,
            "lt": lt,
            "le": le,
            "multiple_of": multiple_of,
            "min_length": min_length,
            "max_length": max_length,
            "pattern": pattern,
        }
        self.constraints = _v1_spellings(
            {k: v for k, v in given.items() if v is not None}, regex, min_items, max_items
        )

    @property
    def required(self) -> bool:
        return self.default is ... and self.default_factory is None

    def with_default(self, default: Any) -> Param:
        """A copy whose default is `default` (from `name: Annotated[T, Query()] = default`)."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.default = default
        return clone

    def field_info(self, alias: str | None = None, title: str | None = None) -> FieldInfo:
        """The pydantic field this marker stands for."""
        extra: dict[str, Any] = {}
        if alias is not None:
            extra["alias"] = alias
        if self.title is not None or title is not None:
            extra["title"] = self.title if self.title is not None else title
        if self.description is not None:
            extra["description"] = self.description
        if self.examples is not None:
            extra["examples"] = self.examples
        if self.deprecated is not None:
            extra["deprecated"] = self.deprecated
        if self.default_factory is not None:
            extra["default_factory"] = self.default_factory
            default = PydanticUndefined
        else:
            default = PydanticUndefined if self.default is ... else self.default
        field: FieldInfo = pydantic.Field(default, **extra, **self.constraints)
        return field

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.default!r})"


class QueryParam(Param):
    source = "query"


class PathParam(Param):
    source = "path"


class HeaderParam(Param):
    source = "header"

    def __init__(
        self, default: Any = ..., *, convert_underscores: bool = True, **kw: Unpack[ParamOptions]
    ) -> None:
        super().__init__(default, **kw)
        self.convert_underscores = convert_underscores


class CookieParam(Param):
    source = "cookie"


class BodyParam(Param):
    source = "body"

    def __init__(
        self,
        default: Any = ...,
        *,
        embed: bool = False,
        media_type: str = "application/json",
        **kw: Unpack[ParamOptions],
    ) -> None:
        super().__init__(default, **kw)
        self.embed = embed
        self.media_type = media_type


class FormParam(Param):
    source = "form"


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def parse_size(size: int | str) -> int:
    """`50MB` -> 52428800; ints pass through. `ValueError` for anything else."""
    if isinstance(size, int):
        if size < 0:
            raise ValueError(f"a size cannot be negative: {size}")
        return size
    match = _SIZE.match(size)
    if match is None:
        raise ValueError(f"not a size: {size!r} (use e.g. 512, '64KB', '50MB')")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


class FileParam(FormParam):
    """An uploaded file (a multipart part with a filename); `max_size` refuses bigger ones."""

    source = "file"

    def __init__(
        self,
        default: Any = ...,
        *,
        max_size: int | str | None = None,
        **kw: Unpack[ParamOptions],
    ) -> None:
        super().__init__(default, **kw)
        try:
            self.max_size = None if max_size is None else parse_size(max_size)
        except ValueError as exc:
            raise ConfigurationError(f"File(max_size=...): {exc}") from None


DependencyScope = Literal["request", "function"]


class DependsParam:
    """`Depends(dependency)`: the argument is what `dependency` returns (or yields).

    `dependency` is a function (sync or async), a generator (sync or async: the code after
    `yield` is its cleanup), a class, or a callable instance; `None` means the argument's
    annotation. `use_cache=False` runs it again each time it is asked for in one request.
    Cleanup runs after the response has been sent (`scope="request"`, the default) or
    right after the handler returns (`scope="function"`).
    """

    __slots__ = ("dependency", "scope", "use_cache")

    def __init__(
        self,
        dependency: Callable[..., Any] | None = None,
        *,
        use_cache: bool = True,
        scope: DependencyScope = "request",
    ) -> None:
        if dependency is not None and not callable(dependency):
            raise ConfigurationError(f"Depends() takes a callable, not {dependency!r}")
        if scope not in ("request", "function"):
            raise ConfigurationError(
                f"Depends(scope=...) is 'request' or 'function', not {scope!r}"
            )
        self.dependency = dependency
        self.use_cache = use_cache
        self.scope = scope

    def __repr__(self) -> str:
        name = getattr(self.dependency, "__qualname__", None) or repr(self.dependency)
        cache = "" if self.use_cache else ", use_cache=False"
        return f"Depends({name}{cache})"


class SecurityParam(DependsParam):
    """`Security(dependency, scopes=[...])`: `Depends` that also declares the OAuth2 scopes
    the route needs (FastAPI's spelling).

    The scopes add up along a chain of dependencies: a dependency taking a
    `SecurityScopes` argument gets every scope declared on the way to it, and a security
    scheme (`OAuth2PasswordBearer`...) is documented in OpenAPI with them. A dependency
    reached with different scopes runs once per set of scopes.
    """

    __slots__ = ("scopes",)

    def __init__(
        self,
        dependency: Callable[..., Any] | None = None,
        *,
        scopes: Sequence[str] | None = None,
        use_cache: bool = True,
        scope: DependencyScope = "request",
    ) -> None:
        super().__init__(dependency, use_cache=use_cache, scope=scope)
        if isinstance(scopes, str) or not all(isinstance(s, str) for s in scopes or ()):
            raise ConfigurationError(f"Security(scopes=...) takes a list of names, not {scopes!r}")
        self.scopes: tuple[str, ...] = tuple(scopes or ())

    def __repr__(self) -> str:
        name = getattr(self.dependency, "__qualname__", None) or repr(self.dependency)
        return f"Security({name}, scopes={list(self.scopes)!r})"


class SecurityScopes:
    """Injected into a dependency that declares it: the scopes required by the route, as
    accumulated by `Security(..., scopes=...)` along the chain (FastAPI's class)."""

    def __init__(self, scopes: Sequence[str] | None = None) -> None:
        self.scopes: list[str] = list(scopes or ())
        self.scope_str: str = " ".join(self.scopes)

    def __repr__(self) -> str:
        return f"SecurityScopes({self.scopes!r})"


if TYPE_CHECKING:
    # Type checkers see functions returning Any, so `n: int = Query(100)` type-checks.

    def Security(
        dependency: Callable[..., Any] | None = None,
        *,
        scopes: Sequence[str] | None = None,
        use_cache: bool = True,
        scope: DependencyScope = "request",
    ) -> Any: ...

    def Depends(
        dependency: Callable[..., Any] | None = None,
        *,
        use_cache: bool = True,
        scope: DependencyScope = "request",
    ) -> Any: ...

    def Query(default: Any = ..., **options: Unpack[ParamOptions]) -> Any: ...
    def Path(default: Any = ..., **options: Unpack[ParamOptions]) -> Any: ...
    def Header(default: Any = ..., **options: Unpack[HeaderOptions]) -> Any: ...
    def Cookie(default: Any = ..., **options: Unpack[ParamOptions]) -> Any: ...
    def Body(default: Any = ..., **options: Unpack[BodyOptions]) -> Any: ...
    def Form(default: Any = ..., **options: Unpack[ParamOptions]) -> Any: ...
    def File(default: Any = ..., **options: Unpack[FileOptions]) -> Any: ...

else:
    Security = SecurityParam
    Depends = DependsParam
    Query = QueryParam
    Path = PathParam
    Header = HeaderParam
    Cookie = CookieParam
    Body = BodyParam
    Form = FormParam
    File = FileParam
