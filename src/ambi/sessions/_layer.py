"""Loading the session before dispatch and saving it into the response after."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypedDict

import orjson
from itsdangerous import BadData, Signer, URLSafeTimedSerializer

from ..exceptions import ConfigurationError, StoreError
from ..http import JSONResponse, Request, Response
from ..stores import Store, resolve_store
from ._session import Session

logger = logging.getLogger("ambi.sessions")

Dispatch = Callable[[Request], Awaitable[Response]]

#: What browsers keep of one cookie (name, value and attributes): RFC 6265 asks for 4096.
MAX_COOKIE = 4096
MIN_SECRET = 16
TWO_WEEKS = 14 * 24 * 3600


class SessionOptions(TypedDict, total=False):
    """The options of `app.enable_sessions(secret_key, **options)`."""

    store: str | Store | None
    cookie_name: str
    max_age: int | None
    path: str
    domain: str | None
    secure: bool | None
    httponly: bool
    samesite: Literal["lax", "strict", "none"]


class _Cookie:
    """The session cookie's name and attributes."""

    def __init__(self, options: SessionOptions) -> None:
        self.name = options.get("cookie_name", "session")
        self.max_age = options.get("max_age", TWO_WEEKS)
        self.path = options.get("path", "/")
        self.domain = options.get("domain")
        self.secure = options.get("secure")
        self.httponly = options.get("httponly", True)
        self.samesite = str(options.get("samesite", "lax")).lower()
        if not self.name or not self.name.isascii() or any(c in self.name for c in ' ;,="'):
            raise ConfigurationError(f"cookie_name {self.name!r} is not a valid cookie name")
        if self.max_age is not None and (
            isinstance(self.max_age, bool) or not isinstance(self.max_age, int) or self.max_age < 1
        ):
            raise ConfigurationError(
                f"max_age is a positive number of seconds or None, not {self.max_age!r}"
            )
        if self.samesite not in ("lax", "strict", "none"):
            raise ConfigurationError(
                f"samesite is 'lax', 'strict' or 'none', not {self.samesite!r}"
            )
        if self.samesite == "none" and self.secure is not True:
            raise ConfigurationError(
                "samesite='none' needs secure=True (browsers refuse it otherwise)"
            )

    def set(self, request: Request, response: Response, value: str) -> None:
        secure = request.scheme == "https" if self.secure is None else self.secure
        response.set_cookie(
            self.name,
            value,
            max_age=self.max_age,
            path=self.path,
            domain=self.domain,
            secure=secure,
            httponly=self.httponly,
            samesite=self.samesite,
        )

    def delete(self, response: Response) -> None:
        response.delete_cookie(self.name, path=self.path, domain=self.domain)


class _CookieBackend:
    """The values themselves in the cookie, signed (HMAC-SHA256) and timestamped."""

    def __init__(self, secret: str | bytes, cookie: _Cookie) -> None:
        self.cookie = cookie
        self.serializer = URLSafeTimedSerializer(
            secret, salt="ambi.session", signer_kwargs={"digest_method": hashlib.sha256}
        )

    def _decode(self, value: str) -> dict[str, Any]:
        try:
            data = self.serializer.loads(value, max_age=self.cookie.max_age)
        except (BadData, ValueError, TypeError, UnicodeError):
            return {}  # tampered, expired or not ours: an empty session
        return data if isinstance(data, dict) else {}

    async def open(self, value: str | None) -> Session:
        if not value:
            return Session({})
        return Session(loader=lambda: self._decode(value))

    async def save(
        self, session: Session, sent: bool, request: Request, response: Response
    ) -> None:
        data = session.data
        if not data:
            if sent:
                self.cookie.delete(response)
            return
        value = self.serializer.dumps(data)
        if len(value) + len(self.cookie.name) + 200 > MAX_COOKIE:
            raise ValueError(
                f"the session cookie would be {len(value)} bytes, more than browsers keep: "
                "store less in the session, or keep sessions in a store (store='redis://...')"
            )
        self.cookie.set(request, response, value)


class _StoreBackend:
    """A random id in the cookie (signed), the values in a store, expiring with `max_age`."""

    def __init__(self, secret: str | bytes, cookie: _Cookie, store: Store) -> None:
        if cookie.max_age is None:
            raise ConfigurationError(
                "server-side sessions need max_age: it is their lifetime in the store"
            )
        self.cookie = cookie
        self.ttl = cookie.max_age
        self.store = store
        self.signer = Signer(secret, salt="ambi.session.id", digest_method=hashlib.sha256)

    @staticmethod
    def _key(session_id: str) -> str:
        return f"session:{session_id}"

    async def open(self, value: str | None) -> Session:
        if not value:
            return Session({})
        try:
            session_id = self.signer.unsign(value).decode()
        except (BadData, ValueError, UnicodeError):
            return Session({})
        try:
            raw = await self.store.get(self._key(session_id))
        except StoreError as exc:
            logger.error("session store %r failed loading a session: %s", self.store, exc)
            return Session(error=exc)
        if raw is None:
            return Session({})  # expired or unknown: a new session gets a new id
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            data = None
        return Session(data if isinstance(data, dict) else {}, session_id=session_id)

    async def save(
        self, session: Session, sent: bool, request: Request, response: Response
    ) -> None:
        data = session.data
        old = session.id
        if old is not None and (session.regenerated or not data):
            await self.store.delete(self._key(old))
            old = None
        if not data:
            if sent:
                self.cookie.delete(response)
            return
        session_id = old or secrets.token_urlsafe(32)
        await self.store.set(self._key(session_id), orjson.dumps(data), self.ttl)
        session.id = session_id
        self.cookie.set(request, response, self.signer.sign(session_id).decode())


class SessionLayer:
    """What the app calls instead of its dispatch when sessions are enabled: open the
    session (`request.session`), dispatch, then save it into the response if it changed.
    A store failure while saving answers 503; values that cannot be saved, 500."""

    def __init__(self, inner: Dispatch, secret_key: str | bytes, options: SessionOptions) -> None:
        if not isinstance(secret_key, str | bytes) or len(secret_key) < MIN_SECRET:
            raise ConfigurationError(
                f"secret_key must be a str or bytes of at least {MIN_SECRET} characters "
                "(e.g. secrets.token_urlsafe(32)), kept out of the source code"
            )
        self.inner = inner
        cookie = _Cookie(options)
        self.cookie_name = cookie.name
        store = options.get("store")
        self.store = None if store is None else resolve_store(store)
        self.backend: _CookieBackend | _StoreBackend = (
            _CookieBackend(secret_key, cookie)
            if self.store is None
            else _StoreBackend(secret_key, cookie, self.store)
        )

    async def __call__(self, request: Request) -> Response:
        value = request.cookies.get(self.cookie_name)
        session = await self.backend.open(value)
        request._session = session
        response = await self.inner(request)
        if session.accessed:
            vary = response.headers.get("vary")
            if vary is None or "cookie" not in vary.lower():
                response.headers["vary"] = f"{vary}, Cookie" if vary else "Cookie"
        if not session.modified:
            return response
        try:
            await self.backend.save(session, value is not None, request, response)
        except StoreError as exc:
            logger.error("session store %r failed saving a session: %s", self.store, exc)
            return JSONResponse({"detail": "the session store is unavailable"}, 503)
        except (TypeError, ValueError) as exc:
            logger.error("cannot save the session (%s %s): %s", request.method, request.path, exc)
            return JSONResponse({"detail": "Internal Server Error"}, 500)
        return response

    async def close(self) -> None:
        """Release the store's connections on the running loop (at the app's shutdown)."""
        if self.store is not None:
            await self.store.close()
