"""API keys as dependencies: `APIKeyQuery`, `APIKeyHeader`, `APIKeyCookie` (FastAPI's
classes: missing key -> 401 with `WWW-Authenticate: APIKey`, or None with
`auto_error=False`)."""

from __future__ import annotations

from typing import Literal

from ..exceptions import HTTPException
from ..http import Request
from ._base import SecurityBase

__all__ = ["APIKeyBase", "APIKeyCookie", "APIKeyHeader", "APIKeyQuery"]


class APIKeyBase(SecurityBase):
    location: Literal["query", "header", "cookie"]

    def __init__(
        self,
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        self.model = {"type": "apiKey", "in": self.location, "name": name}
        if description is not None:
            self.model["description"] = description
        self.name = name
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    def make_not_authenticated_error(self) -> HTTPException:
        # RFC 9110 wants a challenge with every 401; API keys have no standard one.
        return HTTPException(401, "Not authenticated", {"WWW-Authenticate": "APIKey"})

    def check_api_key(self, api_key: str | None) -> str | None:
        if not api_key:
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return api_key


class APIKeyQuery(APIKeyBase):
    """The key in the query parameter `name`."""

    location = "query"

    async def __call__(self, request: Request) -> str | None:
        return self.check_api_key(request.query_params.get(self.name))


class APIKeyHeader(APIKeyBase):
    """The key in the header `name`."""

    location = "header"

    async def __call__(self, request: Request) -> str | None:
        return self.check_api_key(request.headers.get(self.name))


class APIKeyCookie(APIKeyBase):
    """The key in the cookie `name`."""

    location = "cookie"

    async def __call__(self, request: Request) -> str | None:
        return self.check_api_key(request.cookies.get(self.name))
