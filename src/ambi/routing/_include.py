"""Router-wide route settings (FastAPI's `APIRouter` / `include_router` options) and how
they combine with a route's own when a router is included.

A route's own setting wins; then the included router's; then what `include_router`
was given (and, for an app's routes, the app's own defaults, applied when it compiles
or documents them). `responses` merge, the route's entries over the router's over the
include's; `deprecated=True` and `include_in_schema=False` anywhere apply to the route.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..exceptions import ConfigurationError
from ..http import Response

if TYPE_CHECKING:
    from ._options import RouteOptions

_STATUS_RANGES = frozenset({"DEFAULT", "1XX", "2XX", "3XX", "4XX", "5XX"})


def _is_status_key(status: Any) -> bool:
    if isinstance(status, bool):
        return False
    if isinstance(status, int):
        return 100 <= status <= 599
    if isinstance(status, str):
        return status.upper() in _STATUS_RANGES or (status.isdigit() and 100 <= int(status) <= 599)
    return False


def check_responses(responses: Any, where: str) -> dict[int | str, dict[str, Any]]:
    """`responses` as a dict, if it maps status codes (or "default", "4XX"...) to dicts."""
    if not isinstance(responses, Mapping):
        raise ConfigurationError(f"{where}: responses must be a dict, not {responses!r}")
    for status, response in responses.items():
        if not _is_status_key(status):
            raise ConfigurationError(
                f"{where}: responses keys are status codes (or 'default', '4XX'...), not {status!r}"
            )
        if not isinstance(response, Mapping):
            raise ConfigurationError(
                f"{where}: responses[{status!r}] must be a dict, not {response!r}"
            )
    return dict(responses)


@dataclass(frozen=True, slots=True)
class IncludeDefaults:
    """The route settings a router (or an `include_router` call) gives its routes."""

    default_response_class: type[Any] | None = None
    responses: dict[int | str, dict[str, Any]] = field(default_factory=dict)
    deprecated: bool | None = None
    include_in_schema: bool = True
    generate_unique_id_function: Callable[..., str] | None = None
    redirect_slashes: bool | None = None

    @classmethod
    def checked(
        cls,
        where: str,
        *,
        default_response_class: Any = None,
        responses: Any = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        generate_unique_id_function: Any = None,
        redirect_slashes: bool | None = None,
    ) -> IncludeDefaults:
        """The settings, each checked (`ConfigurationError` for one that cannot work)."""
        if default_response_class is not None and not (
            inspect.isclass(default_response_class) and issubclass(default_response_class, Response)
        ):
            raise ConfigurationError(
                f"{where}: default_response_class must be a Response subclass, "
                f"not {default_response_class!r}"
            )
        if generate_unique_id_function is not None and not callable(generate_unique_id_function):
            raise ConfigurationError(
                f"{where}: generate_unique_id_function must be a callable taking the route"
            )
        for name, value in (("deprecated", deprecated), ("redirect_slashes", redirect_slashes)):
            if value is not None and not isinstance(value, bool):
                raise ConfigurationError(f"{where}: {name} is True, False or None, not {value!r}")
        if not isinstance(include_in_schema, bool):
            raise ConfigurationError(f"{where}: include_in_schema is True or False")
        return cls(
            default_response_class,
            check_responses(responses or {}, where),
            deprecated,
            include_in_schema,
            generate_unique_id_function,
            redirect_slashes,
        )

    def apply(self, options: RouteOptions, given: IncludeDefaults) -> None:
        """Fill `options` (a route of this router, included with `given`) in place."""
        if "response_class" not in options:
            cls = self.default_response_class or given.default_response_class
            if cls is not None:
                options["response_class"] = cls
        if self.responses or given.responses:
            options["responses"] = {
                **given.responses,
                **self.responses,
                **options.get("responses", {}),
            }
        if self.deprecated or given.deprecated:
            options["deprecated"] = True
        if not (self.include_in_schema and given.include_in_schema):
            options["include_in_schema"] = False
        if "generate_unique_id_function" not in options:
            generate = self.generate_unique_id_function or given.generate_unique_id_function
            if generate is not None:
                options["generate_unique_id_function"] = generate
        if "redirect_slashes" not in options and self.redirect_slashes is not None:
            options["redirect_slashes"] = self.redirect_slashes
