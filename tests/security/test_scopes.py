"""`Security(dep, scopes=[...])` and `SecurityScopes` in the dependency compiler: scopes
add up along each chain, and a dependency that uses scopes runs once per set of scopes
(FastAPI's cache key), while one that does not runs once per request."""

from collections.abc import Callable
from typing import Annotated, Any

import pytest

from ambi import App, ConfigurationError, Depends, Security
from ambi.security import OAuth2PasswordBearer, SecurityScopes
from ambi.testing import TestClient

ClientFor = Callable[..., TestClient]


def test_scopes_accumulate_along_the_chain(client_for: ClientFor) -> None:
    app = App()
    seen: list[list[str]] = []

    def leaf(scopes: SecurityScopes) -> str:
        seen.append(scopes.scopes)
        return scopes.scope_str

    def middle(value: Annotated[str, Security(leaf, scopes=["b", "a"])]) -> str:
        return value

    @app.get("/")
    def handler(
        top: Annotated[str, Security(middle, scopes=["c", "b"])],
        scopes: SecurityScopes,
    ) -> dict[str, Any]:
        return {"leaf": top, "handler": scopes.scopes}

    assert client_for(app).get("/").json() == {"leaf": "c b a", "handler": []}
    assert seen == [["c", "b", "a"]]


def test_a_scope_using_dependency_runs_once_per_set_of_scopes(client_for: ClientFor) -> None:
    app = App()
    runs: list[str] = []

    def scoped(scopes: SecurityScopes) -> str:
        runs.append(scopes.scope_str)
        return scopes.scope_str

    def plain() -> str:
        runs.append("plain")
        return "plain"

    def reader(
        value: Annotated[str, Security(scoped, scopes=["read"])], p: str = Depends(plain)
    ) -> str:
        return value

    def writer(
        value: Annotated[str, Security(scoped, scopes=["write"])], p: str = Depends(plain)
    ) -> str:
        return value

    def reader_again(value: Annotated[str, Security(scoped, scopes=["read"])]) -> str:
        return value

    @app.get("/")
    def handler(
        r: str = Depends(reader),
        w: str = Depends(writer),
        again: str = Depends(reader_again),
        p: str = Security(plain, scopes=["x"]),
    ) -> list[str]:
        return [r, w, again, p]

    assert client_for(app).get("/").json() == ["read", "write", "read", "plain"]
    # `scoped` ran for "read" and for "write"; `plain` once, whatever the scopes around it.
    # (A dependency declaring its own scopes is keyed by them: `Security(plain, ...)`.)
    assert sorted(runs) == ["plain", "plain", "read", "write"]


def test_security_in_route_and_app_dependencies_is_documented() -> None:
    oauth = OAuth2PasswordBearer(tokenUrl="token", scopes={"admin": "All.", "me": "Me."})
    app = App(dependencies=[Security(oauth, scopes=["me"])])

    @app.get("/admin", dependencies=[Security(oauth, scopes=["admin"])])
    def admin() -> None: ...

    @app.get("/mine")
    def mine() -> None: ...

    paths = app.openapi()["paths"]
    assert paths["/admin"]["get"]["security"] == [{"OAuth2PasswordBearer": ["me", "admin"]}]
    assert paths["/mine"]["get"]["security"] == [{"OAuth2PasswordBearer": ["me"]}]


def test_security_marker_checks_its_scopes() -> None:
    with pytest.raises(ConfigurationError, match="list of names"):
        Security(lambda: 1, scopes="admin")
    with pytest.raises(ConfigurationError, match="list of names"):
        Security(lambda: 1, scopes=[1])
    assert repr(Security(len, scopes=["a"])) == "Security(len, scopes=['a'])"
    assert repr(SecurityScopes(["a", "b"])) == "SecurityScopes(['a', 'b'])"
