"""The parameter markers and `BaseModel` / `Field` with pydantic v1 spellings."""

from typing import Any

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ambi
from ambi import BaseModel, Body, Cookie, Field, File, Form, Header, Path, Query
from ambi.params import (
    BodyParam,
    CookieParam,
    FileParam,
    FormParam,
    HeaderParam,
    Param,
    PathParam,
    QueryParam,
    parse_size,
)


def test_base_model_is_pydantics() -> None:
    assert ambi.BaseModel is pydantic.BaseModel


def test_field_takes_the_v1_spellings() -> None:
    class Request(BaseModel):
        data: list[int] = Field(min_items=1, max_items=2, description="Items")
        kind: str = Field("standard", regex=r"^(standard|premium)$")
        name: str | None = Field(None, max_length=3)

    assert Request(data=[1]).kind == "standard"
    with pytest.raises(pydantic.ValidationError) as caught:
        Request(data=[], kind="x", name="long")
    errors = {(e["loc"], e["type"]) for e in caught.value.errors()}
    assert errors == {
        (("data",), "too_short"),
        (("kind",), "string_pattern_mismatch"),
        (("name",), "string_too_long"),
    }
    with pytest.raises(pydantic.ValidationError):
        Request(data=[1, 2, 3])
    schema = Request.model_json_schema()
    assert schema["properties"]["data"]["minItems"] == 1
    assert schema["properties"]["kind"]["pattern"] == "^(standard|premium)$"


def test_field_ellipsis_means_required() -> None:
    class Model(BaseModel):
        a: int = Field(..., ge=1)

    with pytest.raises(pydantic.ValidationError):
        Model()


def test_field_new_spellings_win_over_old() -> None:
    class Model(BaseModel):
        a: str = Field(pattern="^a$", regex="^b$")

    assert Model(a="a").a == "a"


def test_plain_pydantic_models_work_too() -> None:
    class Model(pydantic.BaseModel):
        a: int = pydantic.Field(ge=1)

    assert Model(a=1).a == 1


@pytest.mark.parametrize(
    ("factory", "cls", "source"),
    [
        (Query, QueryParam, "query"),
        (Path, PathParam, "path"),
        (Header, HeaderParam, "header"),
        (Cookie, CookieParam, "cookie"),
        (Body, BodyParam, "body"),
        (Form, FormParam, "form"),
        (File, FileParam, "file"),
    ],
)
def test_each_marker(factory: Any, cls: type[Param], source: str) -> None:
    marker = factory(5, description="d", alias="a", ge=1, title="T", examples=[5], deprecated=True)
    assert type(marker) is cls
    assert marker.source == source
    assert marker.default == 5
    assert not marker.required
    assert marker.constraints == {"ge": 1}
    assert (marker.alias, marker.title, marker.description) == ("a", "T", "d")
    assert repr(marker) == f"{cls.__name__}(5)"
    assert factory().required
    assert factory(...).required


def test_marker_options() -> None:
    marker = Query(
        None,
        gt=1,
        lt=9,
        multiple_of=2,
        min_length=1,
        max_length=4,
        pattern="^x",
        include_in_schema=False,
    )
    assert marker.constraints == {
        "gt": 1,
        "lt": 9,
        "multiple_of": 2,
        "min_length": 1,
        "max_length": 4,
        "pattern": "^x",
    }
    assert marker.include_in_schema is False
    assert Query(regex="^a", min_items=1, max_items=2).constraints == {
        "pattern": "^a",
        "min_length": 1,
        "max_length": 2,
    }
    assert not Query(default_factory=list).required
    assert Header(convert_underscores=False).convert_underscores is False
    body = Body(embed=True, media_type="application/vnd.x+json")
    assert (body.embed, body.media_type) == (True, "application/vnd.x+json")
    assert isinstance(File(), FormParam)


def test_field_info() -> None:
    info = Query(3, ge=1, description="d", examples=[1], deprecated=True).field_info(
        alias="n", title="N"
    )
    assert info.default == 3
    assert info.alias == "n"
    assert info.title == "N"
    assert info.description == "d"
    assert info.examples == [1]
    assert info.deprecated is True
    assert Query(title="Own").field_info(title="Other").title == "Own"
    assert Query().field_info().is_required()
    assert Query(default_factory=list).field_info().default_factory is list


def test_with_default_copies() -> None:
    marker = Query(ge=2)
    copy = marker.with_default(7)
    assert (copy.default, marker.default) == (7, ...)
    assert copy.constraints == {"ge": 2}
    assert type(copy) is QueryParam


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, 0),
        (512, 512),
        ("512", 512),
        ("1KB", 1024),
        ("1 kb", 1024),
        ("1KiB", 1024),
        ("2K", 2048),
        ("50MB", 50 * 1024**2),
        ("1.5GB", int(1.5 * 1024**3)),
        ("1TB", 1024**4),
    ],
)
def test_parse_size(size: Any, expected: int) -> None:
    assert parse_size(size) == expected


@pytest.mark.parametrize("size", ["", "MB", "ten", "-1", "1XB", -5])
def test_parse_size_refuses_nonsense(size: Any) -> None:
    with pytest.raises(ValueError, match="size"):
        parse_size(size)


@given(
    st.integers(0, 10**6), st.sampled_from(["", "K", "M", "G"]), st.sampled_from(["", "B", "iB"])
)
def test_parse_size_units(number: int, unit: str, suffix: str) -> None:
    factor = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[unit]
    assert parse_size(f"{number}{unit}{suffix if unit else ''}") == number * factor
