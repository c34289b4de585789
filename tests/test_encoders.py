"""`jsonable_encoder` gives what FastAPI's gives, for the same arguments."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import ipaddress
import uuid
from collections import deque
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any

import pytest
from fastapi.encoders import jsonable_encoder as fastapi_encoder
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field, SecretStr

from ambi import jsonable_encoder
from ambi.encoders import jsonable_encoder as from_module


class Color(enum.Enum):
    RED = "red"


class Pet(BaseModel):
    name: str
    age: int | None = None
    nick: str = Field("x", alias="nickName")
    born: datetime.date | None = None
    secret: SecretStr | None = None


@dataclasses.dataclass
class Point:
    x: float
    y: float
    label: str | None = None


class Plain:
    def __init__(self) -> None:
        self.a = 1
        self._sa_instance_state = "sqlalchemy"


VALUES: list[Any] = [
    {"a": 1, "b": None, "_sa_state": 1, 3: "int key"},
    [1, "x", None, 2.5, True],
    {1, 2},
    frozenset({"a"}),
    (1, (2, 3)),
    deque([1, 2]),
    (i for i in range(3)),
    Color.RED,
    PurePosixPath("/a/b"),
    datetime.datetime(2024, 1, 2, 3, 4, 5, 600, tzinfo=datetime.UTC),
    datetime.date(2024, 1, 2),
    datetime.time(3, 4, 5),
    datetime.timedelta(minutes=1, microseconds=5),
    Decimal("1.10"),
    Decimal("10"),
    uuid.UUID(int=5),
    ipaddress.ip_address("10.0.0.1"),
    ipaddress.ip_network("10.0.0.0/8"),
    b"bytes",
    Pet(name="Rex", nickName="R", born=datetime.date(2020, 5, 1), secret=SecretStr("s")),
    [Pet(name="A"), Point(1, 2)],
    Point(1.5, 2.5),
    Plain(),
    {"nested": {"pet": Pet(name="B", age=None), "when": datetime.date(2021, 1, 1)}},
]

OPTIONS: list[dict[str, Any]] = [
    {},
    {"exclude_none": True},
    {"exclude_unset": True},
    {"exclude_defaults": True},
    {"by_alias": False},
    {"include": {"name", "a"}},
    {"exclude": {"age", "b"}},
    {"sqlalchemy_safe": False},
    {"custom_encoder": {datetime.date: lambda d: d.year}},
]


def _fresh(value: Any) -> Any:
    """Generators are used up by the first encoder: give each its own."""
    if hasattr(value, "gi_code"):
        return (i for i in range(3))
    return value


@pytest.mark.parametrize("options", OPTIONS, ids=repr)
@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_same_result_as_fastapi(value: Any, options: dict[str, Any]) -> None:
    assert jsonable_encoder(_fresh(value), **options) == fastapi_encoder(_fresh(value), **options)


def test_one_function_under_both_names() -> None:
    assert from_module is jsonable_encoder


def test_what_cannot_be_read_is_a_value_error() -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - FastAPI's message is a list of errors
        jsonable_encoder(object())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(json_values)
def test_json_data_is_kept(value: Any) -> None:
    assert jsonable_encoder(value) == fastapi_encoder(value) == value
