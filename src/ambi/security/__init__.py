"""Security: FastAPI-style security dependencies, JWT verification and route guards.

    from ambi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm, Security

    oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")

    @app.get("/users/me")
    async def me(token: str = Depends(oauth2_scheme)): ...

- Schemes (dependencies reading credentials, documented in OpenAPI `securitySchemes`
  and on each operation using them; Swagger UI's Authorize button works with them):
  `HTTPBearer`, `HTTPBasic`, `HTTPDigest`, `OAuth2PasswordBearer`,
  `OAuth2AuthorizationCodeBearer`, `OAuth2`, `APIKeyHeader`, `APIKeyQuery`,
  `APIKeyCookie`; missing credentials answer 401 with a `WWW-Authenticate` challenge,
  or give None with `auto_error=False`.
- `OAuth2PasswordRequestForm` (+ `...Strict`): the password flow's form, `Depends()`.
- `Security(dep, scopes=[...])` and `SecurityScopes`: OAuth2 scopes along a chain.
- `JWTAuth`: what `app.enable_jwt(...)` installs (needs the `jwt` extra).
- `RoleGuard` (also `ambi.guards`): a guard checking roles in `request.auth`.
"""

from typing import TYPE_CHECKING, Any

from ..params import Security, SecurityScopes
from ._api_key import APIKeyCookie, APIKeyHeader, APIKeyQuery
from ._base import SecurityBase
from ._guards import RoleGuard
from ._http import (
    HTTPAuthorizationCredentials,
    HTTPBase,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    HTTPDigest,
)
from ._oauth2 import (
    OAuth2,
    OAuth2AuthorizationCodeBearer,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    OAuth2PasswordRequestFormStrict,
)

if TYPE_CHECKING:
    from ._jwt import JWTAuth

__all__ = [
    "APIKeyCookie",
    "APIKeyHeader",
    "APIKeyQuery",
    "HTTPAuthorizationCredentials",
    "HTTPBase",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "HTTPDigest",
    "JWTAuth",
    "OAuth2",
    "OAuth2AuthorizationCodeBearer",
    "OAuth2PasswordBearer",
    "OAuth2PasswordRequestForm",
    "OAuth2PasswordRequestFormStrict",
    "RoleGuard",
    "Security",
    "SecurityBase",
    "SecurityScopes",
]


def __getattr__(name: str) -> Any:
    if name == "JWTAuth":  # imported on use: it needs the optional PyJWT
        from ._jwt import JWTAuth

        return JWTAuth
    raise AttributeError(f"module 'ambi.security' has no attribute {name!r}")
