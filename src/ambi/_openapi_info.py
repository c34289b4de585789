"""What an app's OpenAPI document says about the app itself: `info`, `servers`, `tags`.

FastAPI's `FastAPI(title=, summary=, description=, version=, terms_of_service=, contact=,
license_info=, servers=, openapi_tags=)`, each checked when the app is made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .exceptions import ConfigurationError


def _mapping(name: str, value: Any, required: tuple[str, ...] = ()) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or any(key not in value for key in required):
        keys = f" with {', '.join(map(repr, required))}" if required else ""
        raise ConfigurationError(f"App({name}=...) takes a dict{keys}, not {value!r}")
    return dict(value)


def _mappings(name: str, value: Any, required: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        raise ConfigurationError(f"App({name}=...) takes a list of dicts, not {value!r}")
    return [_mapping(name, item, (required,)) or {} for item in value]


def _text(name: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ConfigurationError(f"App({name}=...) takes a str, not {value!r}")
    return value


@dataclass(slots=True)
class OpenAPIInfo:
    """The document's `info` object, `servers` and `tags` (editable after the app is
    made, before the document is first served)."""

    title: str
    version: str
    summary: str | None = None
    description: str | None = None
    terms_of_service: str | None = None
    contact: dict[str, Any] | None = None
    license_info: dict[str, Any] | None = None
    servers: list[dict[str, Any]] = field(default_factory=list)
    openapi_tags: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def checked(
        cls,
        *,
        title: Any,
        version: Any,
        summary: Any = None,
        description: Any = None,
        terms_of_service: Any = None,
        contact: Any = None,
        license_info: Any = None,
        servers: Any = None,
        openapi_tags: Any = None,
    ) -> OpenAPIInfo:
        return cls(
            title=_text("title", title) or "",
            version=_text("version", version) or "",
            summary=_text("summary", summary),
            description=_text("description", description),
            terms_of_service=_text("terms_of_service", terms_of_service),
            contact=_mapping("contact", contact),
            license_info=_mapping("license_info", license_info, ("name",)),
            servers=_mappings("servers", servers, "url"),
            openapi_tags=_mappings("openapi_tags", openapi_tags, "name"),
        )

    def document_info(self) -> dict[str, Any]:
        """The `info` object."""
        info: dict[str, Any] = {"title": self.title, "version": self.version}
        if self.summary:
            info["summary"] = self.summary
        if self.description:
            info["description"] = self.description
        if self.terms_of_service:
            info["termsOfService"] = self.terms_of_service
        if self.contact:
            info["contact"] = self.contact
        if self.license_info:
            info["license"] = self.license_info
        return info
