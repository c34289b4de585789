"""`SecurityBase`: what makes a dependency a security scheme (documented in OpenAPI)."""

from __future__ import annotations

from typing import Any

__all__ = ["SecurityBase", "authorization_scheme"]


class SecurityBase:
    """A dependency that reads credentials from the request. Its `model` is its OpenAPI
    Security Scheme Object, registered under `scheme_name` in `components.securitySchemes`
    and required by every operation whose dependencies use it."""

    model: dict[str, Any]
    scheme_name: str
    auto_error: bool


def authorization_scheme(value: str | None) -> tuple[str, str]:
    """`"Bearer abc"` -> `("Bearer", "abc")`; nothing -> `("", "")`."""
    if not value:
        return "", ""
    scheme, _, param = value.partition(" ")
    return scheme, param.strip()
