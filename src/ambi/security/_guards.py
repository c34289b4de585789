"""Route guards: callables that decide, before the body is read, whether a request may
reach its handler.

A guard takes the request and returns `True` to let it through; `False` (or anything but
`True`: a guard that forgot to return is refused, not waved through) answers 403, and a
guard may raise `HTTPException` itself (401, 403, 404...) to answer differently. Guards
are sync or async: each is classified once (`ambi.execution`) and runs where it belongs.
They run in order, app guards first, then those of the routers (outermost first), then
the route's, as the `GUARDS` stage of the route's pipeline: before the body is read, so a
refused request costs no body read and no validation. A route without guards has no such
stage.

`RoleGuard(["editor"])` checks the roles in `request.auth` (the claims `enable_jwt` put
there, or whatever an earlier stage or guard set).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..exceptions import ConfigurationError, HTTPException
from ..execution import Invoker
from ..http import Request, Response
from ._routes import is_framework_route

if TYPE_CHECKING:
    from .._pipeline import CompiledRoute, Next, Stage
    from ..app import App

__all__ = ["RoleGuard", "guard_check", "guard_stage"]


class RoleGuard:
    """Let a request through when its authenticated claims carry one of `roles` (all of
    them with `require_all=True`).

    The roles are read from the claim `claim` of `request.auth` (a mapping, or an object
    with that attribute): a list of role names, or one role name as a string. By default
    the claim `roles` is read, and `role` when `roles` is absent. No claims at all (no or
    an anonymous `request.auth`) answers 401 with `WWW-Authenticate: Bearer`; claims
    without the role answer 403. Both bodies say which roles were needed.
    """

    def __init__(
        self, roles: Iterable[str], *, claim: str | None = None, require_all: bool = False
    ) -> None:
        if isinstance(roles, str):
            raise ConfigurationError(
                f"RoleGuard takes a list of role names, not the string {roles!r}"
            )
        self.roles = tuple(roles)
        if not self.roles or not all(isinstance(r, str) and r for r in self.roles):
            raise ConfigurationError(f"RoleGuard needs one or more role names, got {roles!r}")
        self.claims = (claim,) if claim is not None else ("roles", "role")
        self.require_all = require_all
        self._wanted = frozenset(self.roles)
        needs = "all of" if require_all else "one of"
        self._needs = f"{needs} the roles {', '.join(self.roles)}"

    def held(self, auth: Any) -> frozenset[str]:
        """The roles `auth` (the authenticated claims) carries."""
        for claim in self.claims:
            value = auth.get(claim) if isinstance(auth, dict) else getattr(auth, claim, None)
            if value is None:
                continue
            if isinstance(value, str):
                return frozenset((value,))
            if isinstance(value, list | tuple | set | frozenset):
                return frozenset(v for v in value if isinstance(v, str))
            return frozenset()
        return frozenset()

    async def __call__(self, request: Request) -> bool:
        # async: a few set operations belong on the loop, not on a trip to the pool.
        auth = request.auth
        if not auth:
            raise HTTPException(
                401,
                f"Not authenticated: this route needs {self._needs}",
                {"www-authenticate": "Bearer"},
            )
        held = self.held(auth)
        allowed = self._wanted <= held if self.require_all else not self._wanted.isdisjoint(held)
        if not allowed:
            raise HTTPException(403, f"Forbidden: this route needs {self._needs}")
        return True

    def __repr__(self) -> str:
        extra = ", require_all=True" if self.require_all else ""
        return f"RoleGuard({list(self.roles)!r}{extra})"


def _refused(invoker: Invoker) -> HTTPException:
    return HTTPException(403, f"Forbidden: refused by guard {invoker.name}")


def _make_stage(invokers: Sequence[Invoker]) -> Stage:
    if len(invokers) == 1:
        (only,) = invokers

        async def one_guard(request: Request, call_next: Next) -> Response:
            if await only(request) is not True:
                raise _refused(only)
            return await call_next(request)

        return one_guard

    async def guards(request: Request, call_next: Next) -> Response:
        for invoker in invokers:
            if await invoker(request) is not True:
                raise _refused(invoker)
        return await call_next(request)

    return guards


def guard_stage(route: CompiledRoute, app: App) -> Stage | None:
    """The `GUARDS` stage of `route`: the app's guards (not on the framework's own routes:
    the docs stay reachable), then the route's (its routers' first); None without any."""
    own: list[Callable[..., Any]] = list(route.definition.options.get("guards", ()))
    if app.guards and not is_framework_route(route, app):
        own = [*app.guards, *own]
    if not own:
        return None
    return _make_stage([Invoker(guard, app.engine) for guard in own])


def guard_check(
    guards: Sequence[Callable[..., Any]], app: App
) -> Callable[[Request], Awaitable[None]] | None:
    """The guards of a websocket route (the app's, its routers', its own), run on the
    handshake before it is accepted: a refusal raises its `HTTPException`."""
    invokers = [Invoker(guard, app.engine) for guard in (*app.guards, *guards)]
    if not invokers:
        return None

    async def guarded(connection: Request) -> None:
        for invoker in invokers:
            if await invoker(connection) is not True:
                raise _refused(invoker)

    return guarded
