"""HTTP authentication schemes as dependencies: `HTTPBearer`, `HTTPBasic`, `HTTPDigest`
(FastAPI's classes, with their status codes and challenges)."""

from __future__ import annotations

import binascii
from base64 import b64decode
from typing import Any

from pydantic import BaseModel

from ..exceptions import HTTPException
from ..http import Request
from ._base import SecurityBase, authorization_scheme

__all__ = [
    "HTTPAuthorizationCredentials",
    "HTTPBase",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "HTTPDigest",
]


class HTTPBasicCredentials(BaseModel):
    username: str
    password: str


class HTTPAuthorizationCredentials(BaseModel):
    scheme: str
    credentials: str


def _model(scheme: str, description: str | None, **extra: Any) -> dict[str, Any]:
    model: dict[str, Any] = {"type": "http", "scheme": scheme}
    model.update({k: v for k, v in extra.items() if v is not None})
    if description is not None:
        model["description"] = description
    return model


class HTTPBase(SecurityBase):
    """An `Authorization: <scheme> <credentials>` header: the dependency's value is an
    `HTTPAuthorizationCredentials`. Missing: 401 with `WWW-Authenticate: <Scheme>`, or
    None with `auto_error=False`."""

    def __init__(
        self,
        *,
        scheme: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        self.model = _model(scheme, description)
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    def make_authenticate_headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": str(self.model["scheme"]).title()}

    def make_not_authenticated_error(self) -> HTTPException:
        return HTTPException(401, "Not authenticated", self.make_authenticate_headers())

    def _credentials(self, request: Request, wanted: str | None) -> Any:
        authorization = request.headers.get("authorization")
        scheme, credentials = authorization_scheme(authorization)
        if not (authorization and scheme and credentials) or (
            wanted is not None and scheme.lower() != wanted
        ):
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials)

    async def __call__(self, request: Request) -> HTTPAuthorizationCredentials | None:
        credentials: HTTPAuthorizationCredentials | None = self._credentials(request, None)
        return credentials


class HTTPBearer(HTTPBase):
    """`Authorization: Bearer <token>`; the value is `HTTPAuthorizationCredentials`."""

    def __init__(
        self,
        *,
        bearerFormat: str | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        self.model = _model("bearer", description, bearerFormat=bearerFormat)
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    async def __call__(self, request: Request) -> HTTPAuthorizationCredentials | None:
        credentials: HTTPAuthorizationCredentials | None = self._credentials(request, "bearer")
        return credentials


class HTTPDigest(HTTPBase):
    """`Authorization: Digest ...`; the value is `HTTPAuthorizationCredentials`."""

    def __init__(
        self,
        *,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            scheme="digest", scheme_name=scheme_name, description=description, auto_error=auto_error
        )

    async def __call__(self, request: Request) -> HTTPAuthorizationCredentials | None:
        credentials: HTTPAuthorizationCredentials | None = self._credentials(request, "digest")
        return credentials


class HTTPBasic(HTTPBase):
    """`Authorization: Basic base64(user:password)`; the value is `HTTPBasicCredentials`.
    Missing or undecodable: 401 with `WWW-Authenticate: Basic` (and the `realm`)."""

    def __init__(
        self,
        *,
        scheme_name: str | None = None,
        realm: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        self.model = _model("basic", description)
        self.scheme_name = scheme_name or type(self).__name__
        self.realm = realm
        self.auto_error = auto_error

    def make_authenticate_headers(self) -> dict[str, str]:
        if self.realm:
            return {"WWW-Authenticate": f'Basic realm="{self.realm}"'}
        return {"WWW-Authenticate": "Basic"}

    async def __call__(  # type: ignore[override]
        self, request: Request
    ) -> HTTPBasicCredentials | None:
        authorization = request.headers.get("authorization")
        scheme, param = authorization_scheme(authorization)
        if not authorization or scheme.lower() != "basic":
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        try:
            data = b64decode(param, validate=True).decode("ascii")
        except (ValueError, UnicodeDecodeError, binascii.Error):
            raise self.make_not_authenticated_error() from None
        username, separator, password = data.partition(":")
        if not separator:
            raise self.make_not_authenticated_error()
        return HTTPBasicCredentials(username=username, password=password)
