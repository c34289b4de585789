"""`app.enable_security_headers(...)`: the response headers browsers act on for safety.

Added to every response that does not set them itself: `Strict-Transport-Security` (on
HTTPS requests only: browsers ignore it over plain HTTP), `X-Content-Type-Options:
nosniff`, `X-Frame-Options`, `Referrer-Policy`, and a `Content-Security-Policy` when one
is given. Each can be turned off with None (HSTS with `hsts_max_age=None`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..exceptions import ConfigurationError
from ..http import Request, Response
from ._builtin import Builtin
from ._chain import Next
from ._headers import put_headers

if TYPE_CHECKING:
    from ..app import App

_FRAME_OPTIONS = ("DENY", "SAMEORIGIN")
_REFERRER_POLICIES = (
    "no-referrer",
    "no-referrer-when-downgrade",
    "origin",
    "origin-when-cross-origin",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
    "unsafe-url",
)


def _hsts(max_age: int | None, include_subdomains: bool, preload: bool) -> list[tuple[str, str]]:
    if max_age is None:
        if preload:
            raise ConfigurationError("hsts_preload needs HSTS on (hsts_max_age is None)")
        return []
    if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 0:
        raise ConfigurationError(f"hsts_max_age must be seconds >= 0 or None: {max_age!r}")
    if preload and (max_age < 31_536_000 or not include_subdomains):
        raise ConfigurationError(
            "hsts_preload needs hsts_max_age >= 31536000 and hsts_include_subdomains"
        )
    value = f"max-age={max_age}"
    if include_subdomains:
        value += "; includeSubDomains"
    if preload:
        value += "; preload"
    return [("strict-transport-security", value)]


class SecurityHeaders(Builtin):
    def __init__(
        self,
        *,
        hsts_max_age: int | None = 31_536_000,
        hsts_include_subdomains: bool = True,
        hsts_preload: bool = False,
        content_type_options: bool = True,
        frame_options: str | None = "DENY",
        referrer_policy: str | None = "strict-origin-when-cross-origin",
        content_security_policy: str | None = None,
    ) -> None:
        always: list[tuple[str, str]] = []
        if content_type_options:
            always.append(("x-content-type-options", "nosniff"))
        if frame_options is not None:
            if frame_options.upper() not in _FRAME_OPTIONS:
                raise ConfigurationError(
                    f"frame_options must be DENY, SAMEORIGIN or None: {frame_options!r}"
                )
            always.append(("x-frame-options", frame_options.upper()))
        if referrer_policy is not None:
            if referrer_policy not in _REFERRER_POLICIES:
                known = ", ".join(_REFERRER_POLICIES)
                raise ConfigurationError(
                    f"referrer_policy {referrer_policy!r} is not one of {known}"
                )
            always.append(("referrer-policy", referrer_policy))
        if content_security_policy is not None:
            if not content_security_policy.strip() or "\n" in content_security_policy:
                raise ConfigurationError("content_security_policy must be a one-line policy")
            always.append(("content-security-policy", content_security_policy))
        self.always = always
        self.https = [*always, *_hsts(hsts_max_age, hsts_include_subdomains, hsts_preload)]

    def layer(self, app: App, call_next: Next) -> Next:
        always, https = self.always, self.https
        always_names = frozenset(name for name, _ in always)
        https_names = frozenset(name for name, _ in https)

        async def security_headers(request: Request) -> Response:
            response = await call_next(request)
            if request.scheme == "https":
                put_headers(response.headers, https, https_names, replace=False)
            else:
                put_headers(response.headers, always, always_names, replace=False)
            return response

        return security_headers
