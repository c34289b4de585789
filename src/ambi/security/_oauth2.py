"""OAuth2 as dependencies (FastAPI's classes): `OAuth2PasswordBearer` reads the bearer
token a client got from the `tokenUrl` route, which takes an `OAuth2PasswordRequestForm`.
Missing token: 401 with `WWW-Authenticate: Bearer`, or None with `auto_error=False`."""

from __future__ import annotations

from typing import Annotated, Any

from ..exceptions import HTTPException
from ..http import Request
from ..params import Form
from ._base import SecurityBase, authorization_scheme

__all__ = [
    "OAuth2",
    "OAuth2AuthorizationCodeBearer",
    "OAuth2PasswordBearer",
    "OAuth2PasswordRequestForm",
    "OAuth2PasswordRequestFormStrict",
]


class OAuth2PasswordRequestForm:
    """The form of OAuth2's password flow: `username`, `password`, `scope` (a string of
    space-separated scopes, as `scopes` the list), optional `grant_type` ("password"),
    `client_id` and `client_secret`. Use it as `form: OAuth2PasswordRequestForm =
    Depends()`."""

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
    ) -> None:
        self.grant_type = grant_type
        self.username = username
        self.password = password
        self.scopes = scope.split()
        self.client_id = client_id
        self.client_secret = client_secret


class OAuth2PasswordRequestFormStrict(OAuth2PasswordRequestForm):
    """`OAuth2PasswordRequestForm` requiring `grant_type=password`, as the spec does."""

    def __init__(
        self,
        *,
        grant_type: Annotated[str, Form(pattern="^password$")],
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )


def _flow(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


class OAuth2(SecurityBase):
    """OAuth2 with the given `flows` (OpenAPI's OAuth Flows Object); the value is the
    whole `Authorization` header."""

    def __init__(
        self,
        *,
        flows: dict[str, dict[str, Any]] | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        self.model: dict[str, Any] = {"type": "oauth2", "flows": dict(flows or {})}
        if description is not None:
            self.model["description"] = description
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    def make_not_authenticated_error(self) -> HTTPException:
        return HTTPException(401, "Not authenticated", {"WWW-Authenticate": "Bearer"})

    async def __call__(self, request: Request) -> str | None:
        authorization = request.headers.get("authorization")
        if not authorization:
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return authorization

    def _bearer(self, request: Request) -> str | None:
        authorization = request.headers.get("authorization")
        scheme, param = authorization_scheme(authorization)
        if not authorization or scheme.lower() != "bearer":
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return param


class OAuth2PasswordBearer(OAuth2):
    """The password flow: clients post an `OAuth2PasswordRequestForm` to `tokenUrl` and
    send the token they get as `Authorization: Bearer <token>`; the value is the token."""

    def __init__(
        self,
        tokenUrl: str,
        *,
        scheme_name: str | None = None,
        scopes: dict[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
        refreshUrl: str | None = None,
    ) -> None:
        password = _flow(tokenUrl=tokenUrl, refreshUrl=refreshUrl, scopes=dict(scopes or {}))
        super().__init__(
            flows={"password": password},
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )

    async def __call__(self, request: Request) -> str | None:
        return self._bearer(request)


class OAuth2AuthorizationCodeBearer(OAuth2):
    """The authorization-code flow; the value is the bearer token."""

    def __init__(
        self,
        authorizationUrl: str,
        tokenUrl: str,
        *,
        refreshUrl: str | None = None,
        scheme_name: str | None = None,
        scopes: dict[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        code = _flow(
            authorizationUrl=authorizationUrl,
            tokenUrl=tokenUrl,
            refreshUrl=refreshUrl,
            scopes=dict(scopes or {}),
        )
        super().__init__(
            flows={"authorizationCode": code},
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )

    async def __call__(self, request: Request) -> str | None:
        return self._bearer(request)
