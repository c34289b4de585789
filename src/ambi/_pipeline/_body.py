"""How a route reads its request body, decided once when the route is compiled.

- A route's body limit is its `max_body_size=` option when given (an int or "50MB"),
  above or below the app's; otherwise the app's `max_body_size`, raised by the files the
  route declares: each `File(max_size=...)` adds its size (a list of files adds
  `max_size` x `max_length` when it has both; otherwise it adds nothing and the route's
  limit bounds it).
- What is held in memory stays within the app's `max_body_size`: a body read whole, and on
  form routes all the text fields together (a 1 GB "field" is a 413, not a string).
- Routes that take form fields or files read the form as it arrives (`Request.read_form`);
  `stream_body=True` routes get the limit for `request.stream()`; the others read the body
  whole before validation (`Request.read_body`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from .._signature import HandlerPlan, reads_as_bytes
from ..exceptions import ConfigurationError
from ..http import FormLimits
from ..params import FileParam, parse_size


@dataclass(frozen=True, slots=True)
class UploadSettings:
    """The app's upload settings: `App(upload_spool_size=, upload_dir=)`."""

    spool_size: int
    directory: str | None


def upload_settings(spool_size: int, directory: str | os.PathLike[str] | None) -> UploadSettings:
    """Check `App(upload_spool_size=, upload_dir=)` (at construction, not at the first
    upload)."""
    if isinstance(spool_size, bool) or not isinstance(spool_size, int) or spool_size < 0:
        raise ConfigurationError(f"upload_spool_size must be an int >= 0, got {spool_size!r}")
    if directory is None:
        return UploadSettings(spool_size, None)
    path = os.fspath(directory)
    if not os.path.isdir(path):
        raise ConfigurationError(f"upload_dir {path!r} is not a directory")
    return UploadSettings(spool_size, path)


def route_body_limit(options: Any, app_limit: int, plan: HandlerPlan, where: str) -> int:
    """The most bytes of body this route accepts (see the module docstring)."""
    explicit = options.get("max_body_size")
    if explicit is not None:
        if isinstance(explicit, bool) or not isinstance(explicit, int | str):
            raise ConfigurationError(
                f"{where}: max_body_size= takes a number of bytes or a size such as '50MB', "
                f"not {explicit!r}"
            )
        try:
            return parse_size(explicit)
        except ValueError as exc:
            raise ConfigurationError(f"{where}: max_body_size=: {exc}") from None
    return app_limit + sum(file_allowances(plan).values())


def file_allowances(plan: HandlerPlan) -> dict[str, int]:
    """Per file field with a `max_size`: what its files may add to the body."""
    allowances: dict[str, int] = {}
    for spec in plan.params:
        marker = spec.marker
        if spec.source != "file" or not isinstance(marker, FileParam):
            continue
        if marker.max_size is None:
            continue
        if not spec.is_list:
            allowances[spec.key] = marker.max_size
        elif marker.constraints.get("max_length") is not None:
            allowances[spec.key] = marker.max_size * int(marker.constraints["max_length"])
    return allowances


def form_limits(
    plan: HandlerPlan, body_limit: int, app_limit: int, uploads: UploadSettings
) -> FormLimits | None:
    """The limits a form route reads its form with; None for a route that reads no form."""
    if not plan.reads_form:
        return None
    files = {
        spec.key: min(spec.marker.max_size, body_limit)
        for spec in plan.params
        if isinstance(spec.marker, FileParam) and spec.marker.max_size is not None
    }
    in_memory = frozenset(
        spec.key
        for spec in plan.params
        if spec.source == "file" and reads_as_bytes(spec.annotation)
    )
    return FormLimits(
        body=body_limit,
        fields=min(app_limit, body_limit),
        files=files,
        in_memory=in_memory,
        spool=uploads.spool_size,
        directory=uploads.directory,
    )
