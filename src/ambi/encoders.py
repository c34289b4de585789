"""`jsonable_encoder`: any object made into JSON-compatible data, as FastAPI's does it.

`from ambi.encoders import jsonable_encoder` (also `from ambi import jsonable_encoder`)
gives the same results as `fastapi.encoders.jsonable_encoder` for the same arguments:
pydantic models are dumped in JSON mode (with `include`, `exclude`, `by_alias`,
`exclude_unset`, `exclude_defaults`, `exclude_none`), dataclasses become dicts, enums
their values, dates and times ISO strings, `timedelta` seconds as a float, `Decimal` an
int when it has no fraction digits and a float otherwise, sets and generators lists,
UUIDs, paths, IP addresses, URLs and secrets strings; dict keys starting with `_sa`
(SQLAlchemy's state) are dropped unless `sqlalchemy_safe=False`; any other object is
read with `dict(obj)`, else `vars(obj)`, else `ValueError`.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
from collections import deque
from collections.abc import Callable, Mapping
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from re import Pattern
from types import GeneratorType
from typing import Any
from uuid import UUID

from pydantic import AnyUrl, BaseModel, NameEmail, SecretBytes, SecretStr
from pydantic_core import PydanticUndefinedType, Url

__all__ = ["ENCODERS_BY_TYPE", "jsonable_encoder"]

IncEx = set[int] | set[str] | Mapping[int, Any] | Mapping[str, Any]


def _decimal(value: Decimal) -> int | float:
    exponent = value.as_tuple().exponent
    return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)


#: Type -> how it is encoded (exact type first, then `isinstance` in this order).
ENCODERS_BY_TYPE: dict[type[Any], Callable[[Any], Any]] = {
    bytes: lambda value: value.decode(),
    datetime.date: lambda value: value.isoformat(),
    datetime.datetime: lambda value: value.isoformat(),
    datetime.time: lambda value: value.isoformat(),
    datetime.timedelta: lambda value: value.total_seconds(),
    Decimal: _decimal,
    Enum: lambda value: value.value,
    frozenset: list,
    deque: list,
    GeneratorType: list,
    ipaddress.IPv4Address: str,
    ipaddress.IPv4Interface: str,
    ipaddress.IPv4Network: str,
    ipaddress.IPv6Address: str,
    ipaddress.IPv6Interface: str,
    ipaddress.IPv6Network: str,
    NameEmail: str,
    PurePath: str,
    Pattern: lambda value: value.pattern,
    SecretBytes: str,
    SecretStr: str,
    set: list,
    UUID: str,
    Url: str,
    AnyUrl: str,
}

_SEQUENCES = (list, set, frozenset, GeneratorType, tuple, deque)


def jsonable_encoder(  # noqa: PLR0917 - FastAPI's signature, positional arguments included
    obj: Any,
    include: IncEx | None = None,
    exclude: IncEx | None = None,
    by_alias: bool = True,
    exclude_unset: bool = False,
    exclude_defaults: bool = False,
    exclude_none: bool = False,
    custom_encoder: dict[Any, Callable[[Any], Any]] | None = None,
    sqlalchemy_safe: bool = True,
) -> Any:
    """`obj` as data `json.dumps` accepts (FastAPI's `jsonable_encoder`)."""
    if custom_encoder:
        encoder = _custom(obj, custom_encoder)
        if encoder is not None:
            return encoder(obj)
    if include is not None and not isinstance(include, set | dict):
        include = set(include)  # type: ignore[assignment]
    if exclude is not None and not isinstance(exclude, set | dict):
        exclude = set(exclude)  # type: ignore[assignment]
    options = _Options(
        by_alias, exclude_unset, exclude_defaults, exclude_none, custom_encoder, sqlalchemy_safe
    )
    if isinstance(obj, BaseModel):
        return options.model(obj, include, exclude)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return options.encode(dataclasses.asdict(obj), include, exclude)
    return _value(obj, options, include, exclude)


def _custom(obj: Any, custom: dict[Any, Callable[[Any], Any]]) -> Callable[[Any], Any] | None:
    encoder = custom.get(type(obj))
    if encoder is None:
        encoder = next((enc for cls, enc in custom.items() if isinstance(obj, cls)), None)
    return encoder


def _value(obj: Any, options: _Options, include: Any, exclude: Any) -> Any:  # noqa: PLR0911
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, PurePath):
        return str(obj)
    if isinstance(obj, str | int | float | type(None)):
        return obj
    if isinstance(obj, PydanticUndefinedType):
        return None
    if isinstance(obj, dict):
        return options.mapping(obj, include, exclude)
    if isinstance(obj, _SEQUENCES):
        return [options.encode(item, include, exclude) for item in obj]
    return _other(obj, options, include, exclude)


def _other(obj: Any, options: _Options, include: Any, exclude: Any) -> Any:
    encoder = ENCODERS_BY_TYPE.get(type(obj))
    if encoder is not None:
        return encoder(obj)
    for cls, encoder in ENCODERS_BY_TYPE.items():
        if isinstance(obj, cls):
            return encoder(obj)
    try:
        data = dict(obj)
    except Exception as first:
        try:
            data = vars(obj)
        except Exception as second:
            raise ValueError([first, second]) from second
    return options.encode(data, include, exclude)


@dataclasses.dataclass(frozen=True, slots=True)
class _Options:
    """The options passed down to nested values."""

    by_alias: bool
    exclude_unset: bool
    exclude_defaults: bool
    exclude_none: bool
    custom_encoder: dict[Any, Callable[[Any], Any]] | None
    sqlalchemy_safe: bool

    def encode(self, value: Any, include: Any = None, exclude: Any = None) -> Any:
        return jsonable_encoder(
            value,
            include=include,
            exclude=exclude,
            by_alias=self.by_alias,
            exclude_unset=self.exclude_unset,
            exclude_defaults=self.exclude_defaults,
            exclude_none=self.exclude_none,
            custom_encoder=self.custom_encoder,
            sqlalchemy_safe=self.sqlalchemy_safe,
        )

    def model(self, obj: BaseModel, include: Any, exclude: Any) -> Any:
        dumped = obj.model_dump(
            mode="json",
            include=include,
            exclude=exclude,
            by_alias=self.by_alias,
            exclude_unset=self.exclude_unset,
            exclude_none=self.exclude_none,
            exclude_defaults=self.exclude_defaults,
        )
        # (FastAPI passes only these three options on from a model's dump.)
        return jsonable_encoder(
            dumped,
            exclude_none=self.exclude_none,
            exclude_defaults=self.exclude_defaults,
            sqlalchemy_safe=self.sqlalchemy_safe,
        )

    def mapping(self, obj: dict[Any, Any], include: Any, exclude: Any) -> dict[Any, Any]:
        allowed = set(obj)
        if include is not None:
            allowed &= set(include)
        if exclude is not None:
            allowed -= set(exclude)
        encoded: dict[Any, Any] = {}
        for key, value in obj.items():
            if key not in allowed or (value is None and self.exclude_none):
                continue
            if self.sqlalchemy_safe and isinstance(key, str) and key.startswith("_sa"):
                continue
            encoded[self.encode(key)] = self.encode(value)
        return encoded
