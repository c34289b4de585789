"""What the built-in middleware share: the configuration type and option checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..exceptions import ConfigurationError
from ._chain import Next

if TYPE_CHECKING:
    from ..app import App


class Builtin:
    """A built-in's checked configuration (made by `app.enable_...`, so mistakes raise at
    registration), and the layer it puts in the chain at startup."""

    def layer(self, app: App, call_next: Next) -> Next:
        raise NotImplementedError


def check_names(values: Sequence[str] | str, what: str) -> tuple[str, ...]:
    """A list of strings (not one string, which would be taken letter by letter)."""
    if isinstance(values, str):
        raise ConfigurationError(f"{what} takes a list of strings, not the string {values!r}")
    result = tuple(values)
    for value in result:
        if not isinstance(value, str) or not value:
            raise ConfigurationError(f"{what}: {value!r} is not a non-empty string")
    return result
