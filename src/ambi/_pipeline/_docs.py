"""The documentation options of a route, checked when it is registered (the OpenAPI
document is built later, on first request: a mistake must not wait until then)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter
from pydantic.errors import PydanticSchemaGenerationError, PydanticUserError

from ..exceptions import ConfigurationError, SignatureError
from ..routing import check_responses


def check_documentation(options: Mapping[str, Any], where: str) -> None:
    """`ConfigurationError` for `responses=`, `openapi_extra=`, `response_description=`,
    `summary=`, `description=`, `operation_id=`, `tags=` or
    `generate_unique_id_function=` values that cannot be documented."""
    for name in ("summary", "description", "response_description", "operation_id"):
        value = options.get(name)
        if value is not None and not isinstance(value, str):
            raise ConfigurationError(f"{where}: {name} must be a str, not {value!r}")
    tags = options.get("tags")
    if tags is not None and (
        isinstance(tags, str) or not all(isinstance(tag, str) for tag in tags)
    ):
        raise ConfigurationError(f"{where}: tags must be a list of str, not {tags!r}")
    extra = options.get("openapi_extra")
    if extra is not None and not isinstance(extra, Mapping):
        raise ConfigurationError(f"{where}: openapi_extra must be a dict, not {extra!r}")
    generate = options.get("generate_unique_id_function")
    if generate is not None and not callable(generate):
        raise ConfigurationError(f"{where}: generate_unique_id_function must be callable")
    for status, response in check_responses(options.get("responses", {}), where).items():
        model = response.get("model")
        if model is None:
            continue
        try:
            TypeAdapter(model)
        except (PydanticSchemaGenerationError, PydanticUserError, TypeError) as exc:
            raise SignatureError(
                f"{where}: responses[{status!r}]['model'] {model!r} has no schema: {exc}"
            ) from exc
