"""Parameter markers (`Query`, `Path`, `Header`, `Cookie`, `Body`, `Form`, `File`) and
pydantic's `BaseModel` / `Field`, with the pydantic v1 spellings the seed documents use.

A marker is used as a default (`n: int = Query(100, ge=2)`) or inside `Annotated`
(`n: Annotated[int, Query(ge=2)] = 100`). `...` (the default default) means required.
"""

from __future__ import annotations

from typing import Any

import pydantic
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

__all__ = [
    "BaseModel",
    "Body",
    "Cookie",
    "Field",
    "File",
    "Form",
    "Header",
    "Param",
    "Path",
    "Query",
]

_CONSTRAINTS = ("gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length", "pattern")


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

    def field_info(self, alias: str | None = None) -> FieldInfo:
        """The pydantic field this marker stands for."""
        extra: dict[str, Any] = {}
        if alias is not None:
            extra["alias"] = alias
        if self.title is not None:
            extra["title"] = self.title
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


class Query(Param):
    source = "query"


class Path(Param):
    source = "path"


class Header(Param):
    source = "header"

    def __init__(self, default: Any = ..., *, convert_underscores: bool = True, **kw: Any) -> None:
        super().__init__(default, **kw)
        self.convert_underscores = convert_underscores


class Cookie(Param):
    source = "cookie"


class Body(Param):
    source = "body"

    def __init__(
        self,
        default: Any = ...,
        *,
        embed: bool = False,
        media_type: str = "application/json",
        **kw: Any,
    ) -> None:
        super().__init__(default, **kw)
        self.embed = embed
        self.media_type = media_type


class Form(Param):
    source = "form"


class File(Form):
    source = "file"
