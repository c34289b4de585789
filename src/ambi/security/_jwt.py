"""`app.enable_jwt(...)`: bearer JWTs verified by PyJWT, claims on `request.auth`.

The verifier is the `AUTHENTICATION` stage of the routes it covers (every user route but
the excluded paths; the framework's docs routes stay open), so a refused token costs no
body read. Per request: one header lookup, one `jwt.decode` (signature, then `exp`,
`nbf`, `aud`, `iss` and the required claims, with `leeway`). Nothing is cached between
requests: a token is checked in full each time, so an expired token is refused the
second it expires.

Refusals are 401 with `WWW-Authenticate: Bearer error="invalid_token"` and a short
`error_description`; no exception from a token, however malformed, becomes a 500.

Algorithm safety is decided at registration: `alg=none` is never accepted; a `secret`
allows only HMAC algorithms (HS*), a public key or JWKS only the asymmetric ones its key
type can verify, so a token signed with HS256 using the public key as the secret
(algorithm confusion) is refused; an HMAC secret shorter than its hash (RFC 7518 3.2)
is a `ConfigurationError`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..exceptions import ConfigurationError, HTTPException
from ..http import Request, Response
from ._routes import Coverage, PathSet, is_framework_route

if TYPE_CHECKING:
    from .._pipeline import CompiledRoute, Next, Stage
    from ..app import App

__all__ = ["JWTAuth"]

logger = logging.getLogger("ambi.security")

#: Key type -> the algorithms a key of that type verifies.
_FAMILIES = {
    "oct": frozenset({"HS256", "HS384", "HS512"}),
    "RSA": frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}),
    "EC": frozenset({"ES256", "ES256K", "ES384", "ES512"}),
    "OKP": frozenset({"EdDSA"}),
}
_MIN_SECRET = {"HS256": 32, "HS384": 48, "HS512": 64}  # bytes: the hash's size


def _invalid(description: str) -> HTTPException:
    return HTTPException(
        401,
        f"Invalid token: {description}",
        {"www-authenticate": f'Bearer error="invalid_token", error_description="{description}"'},
    )


_MISSING = "Not authenticated: a bearer token is required"


def _missing() -> HTTPException:
    return HTTPException(
        401,
        _MISSING,
        {
            "www-authenticate": 'Bearer error="invalid_token", '
            'error_description="missing bearer token"'
        },
    )


def _describe(exc: Exception) -> str:
    import jwt

    for cls, text in (
        (jwt.ExpiredSignatureError, "token expired"),
        (jwt.ImmatureSignatureError, "token not yet valid"),
        (jwt.InvalidAudienceError, "wrong audience"),
        (jwt.InvalidIssuerError, "wrong issuer"),
        (jwt.InvalidSignatureError, "bad signature"),
        (jwt.InvalidAlgorithmError, "algorithm not allowed"),
    ):
        if isinstance(exc, cls):
            return text
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"missing claim {exc.claim}"
    return "malformed token"


def _family(key: Any) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return "EC"
    if isinstance(
        key,
        ed25519.Ed25519PublicKey
        | ed25519.Ed25519PrivateKey
        | ed448.Ed448PublicKey
        | ed448.Ed448PrivateKey,
    ):
        return "OKP"
    return "oct"


def _public(key: Any) -> Any:
    """A private key's public half (a JWKS may carry private keys; we only verify)."""
    return key.public_key() if hasattr(key, "public_key") else key


class JWTAuth:
    """Verifies bearer JWTs for an app (built by `App.enable_jwt`, which documents the
    options)."""

    def __init__(
        self,
        secret: str | bytes | None = None,
        *,
        algorithms: Sequence[str] = ("HS256",),
        public_key: str | bytes | None = None,
        jwks: Mapping[str, Any] | None = None,
        required: bool = False,
        exclude: Sequence[str] = (),
        audience: str | Sequence[str] | None = None,
        issuer: str | Sequence[str] | None = None,
        leeway: float = 0,
        require: Sequence[str] = ("exp",),
        scheme_name: str = "JWT",
    ) -> None:
        try:
            import jwt
        except ImportError:
            raise ConfigurationError("enable_jwt() needs PyJWT: pip install 'ambi[jwt]'") from None
        if sum(source is not None for source in (secret, public_key, jwks)) != 1:
            raise ConfigurationError(
                "enable_jwt() takes one key source: secret=, public_key= or jwks="
            )
        self.algorithms = self._check_algorithms(algorithms)
        if isinstance(leeway, bool) or not isinstance(leeway, int | float) or leeway < 0:
            raise ConfigurationError(f"enable_jwt(leeway=...) takes seconds >= 0, not {leeway!r}")
        if isinstance(require, str):
            raise ConfigurationError("enable_jwt(require=...) takes a list of claim names")
        self.required = required
        self.exclude = PathSet(exclude, "enable_jwt(exclude=...)")
        self.scheme_name = scheme_name
        self._jwt = jwt.PyJWT()
        self._decode_options: dict[str, Any] = {
            "audience": audience,
            "issuer": issuer,
            "leeway": leeway,
            "options": {"require": list(require)},
        }
        self._keys: dict[str | None, tuple[Any, list[str]]] = {}
        if secret is not None:
            self._verify = self._with_key(self._secret(secret), sorted(self.algorithms))
        elif public_key is not None:
            key = self._public_key(public_key)
            self._verify = self._with_key(key, self._algorithms_for(key, "public_key"))
        elif jwks is not None:
            self._load_jwks(jwks)
            self._verify = self._with_kid

    # Registration checks ------------------------------------------------------------------

    def _check_algorithms(self, algorithms: Sequence[str]) -> frozenset[str]:
        import jwt

        if isinstance(algorithms, str) or not algorithms:
            raise ConfigurationError("enable_jwt(algorithms=...) takes a non-empty list")
        known = set(jwt.algorithms.get_default_algorithms()) - {"none"}
        for algorithm in algorithms:
            if algorithm.lower() == "none":
                raise ConfigurationError("enable_jwt(): alg=none (unsigned tokens) is refused")
            if algorithm not in known:
                raise ConfigurationError(
                    f"enable_jwt(): unknown algorithm {algorithm!r}; use {sorted(known)}"
                )
        return frozenset(algorithms)

    def _secret(self, secret: str | bytes) -> bytes:
        raw = secret.encode() if isinstance(secret, str) else secret
        if not isinstance(raw, bytes) or not raw:
            raise ConfigurationError("enable_jwt(secret=...) takes a non-empty str or bytes")
        if raw.lstrip().startswith(b"-----BEGIN") or raw.startswith(b"ssh-"):
            raise ConfigurationError(
                "enable_jwt(secret=...) was given a key in PEM/SSH form: pass a public key "
                "as public_key= (an asymmetric key used as an HMAC secret is the "
                "algorithm-confusion attack)"
            )
        wrong = self.algorithms - _FAMILIES["oct"]
        if wrong:
            raise ConfigurationError(
                f"enable_jwt(): a secret verifies HS256/HS384/HS512 only, not {sorted(wrong)}"
            )
        for algorithm in self.algorithms:
            if len(raw) < _MIN_SECRET[algorithm]:
                raise ConfigurationError(
                    f"enable_jwt(): an {algorithm} secret needs at least "
                    f"{_MIN_SECRET[algorithm]} bytes (RFC 7518 3.2), got {len(raw)}"
                )
        return raw

    def _public_key(self, pem: str | bytes) -> Any:
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        raw = pem.encode() if isinstance(pem, str) else pem
        try:
            return load_pem_public_key(raw)
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(
                f"enable_jwt(public_key=...) is not a PEM public key: {exc}"
            ) from None

    def _algorithms_for(self, key: Any, where: str) -> list[str]:
        family = _family(key)
        usable = sorted(self.algorithms & _FAMILIES[family])
        if not usable:
            raise ConfigurationError(
                f"enable_jwt(): the {family} key of {where} verifies none of the algorithms "
                f"{sorted(self.algorithms)}"
            )
        return usable

    def _load_jwks(self, jwks: Mapping[str, Any]) -> None:
        import jwt

        if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
            raise ConfigurationError('enable_jwt(jwks=...) takes a JWKS: {"keys": [...]}')
        for index, data in enumerate(jwks["keys"]):
            kid = data.get("kid") if isinstance(data, Mapping) else None
            try:
                jwk = jwt.PyJWK(dict(data))
            except (jwt.PyJWTError, TypeError, ValueError, KeyError) as exc:
                raise ConfigurationError(f"enable_jwt(jwks=...): key {index}: {exc}") from None
            key = jwk.key if data.get("kty") == "oct" else _public(jwk.key)
            usable = self._algorithms_for(key, f"JWKS key {kid or index}")
            if "alg" in data:
                if data["alg"] not in usable:
                    raise ConfigurationError(
                        f"enable_jwt(jwks=...): key {kid or index} is for {data['alg']}, "
                        f"which is not among the algorithms {sorted(self.algorithms)}"
                    )
                usable = [data["alg"]]
            if kid in self._keys:
                raise ConfigurationError(f"enable_jwt(jwks=...): two keys with kid {kid!r}")
            self._keys[kid] = (key, usable)
        if not self._keys:
            raise ConfigurationError("enable_jwt(jwks=...) holds no keys")

    # Verification -------------------------------------------------------------------------

    def _with_key(self, key: Any, algorithms: list[str]) -> Callable[[str], dict[str, Any]]:
        return functools.partial(
            self._jwt.decode, key=key, algorithms=algorithms, **self._decode_options
        )

    def _with_kid(self, token: str) -> dict[str, Any]:
        import jwt

        kid = jwt.get_unverified_header(token).get("kid")
        found = self._keys.get(kid)
        if found is None:
            if kid is None and len(self._keys) == 1:
                found = next(iter(self._keys.values()))
            else:
                raise jwt.InvalidSignatureError("no key for this kid")
        key, algorithms = found
        claims: dict[str, Any] = self._jwt.decode(
            token, key=key, algorithms=algorithms, **self._decode_options
        )
        return claims

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of `token`, or the 401 `HTTPException` refusing it."""
        try:
            claims = self._verify(token)
        except Exception as exc:  # any failure of a token is the client's 401, never a 500
            import jwt

            if not isinstance(exc, jwt.PyJWTError):
                logger.warning("token refused by an unexpected %s: %s", type(exc).__name__, exc)
            raise _invalid(_describe(exc)) from None
        if not isinstance(claims, dict):
            raise _invalid("malformed token")
        return claims

    def authenticate(self, request: Request) -> None:
        """Set `request.auth` from the bearer token; 401 for a bad one (or a missing one
        where required). Another scheme (`Basic ...`) counts as no token."""
        header = request.headers.get("authorization")
        if header:
            scheme, _, token = header.partition(" ")
            token = token.strip()
            if scheme.lower() == "bearer" and token:
                request.auth = self.verify(token)
                return
        if self.required:
            raise _missing()

    # Pipeline and documentation ------------------------------------------------------------

    def covers(self, route: CompiledRoute, app: App) -> Coverage:
        """Whether the verifier applies to `route`'s requests."""
        if is_framework_route(route, app):
            return Coverage.NONE
        excluded = self.exclude.covers(route.definition.path)
        return {
            Coverage.NONE: Coverage.ALL,
            Coverage.ALL: Coverage.NONE,
            Coverage.SOME: Coverage.SOME,
        }[excluded]

    def stage(self, route: CompiledRoute, app: App) -> Stage | None:
        """The `AUTHENTICATION` stage of `route` (None where excluded: zero cost)."""
        coverage = self.covers(route, app)
        if coverage is Coverage.NONE:
            return None
        authenticate = self.authenticate
        if coverage is Coverage.ALL:

            async def jwt_stage(request: Request, call_next: Next) -> Response:
                authenticate(request)
                return await call_next(request)

            return jwt_stage
        exclude = self.exclude

        async def jwt_stage_unless_excluded(request: Request, call_next: Next) -> Response:
            if not exclude.matches(request.path):
                authenticate(request)
            return await call_next(request)

        return jwt_stage_unless_excluded

    def websocket_check(self, path: str) -> Callable[[Request], None] | None:
        """The check of the websocket route at `path`: the handshake's bearer token, as
        on HTTP routes (None where `exclude` covers the path)."""
        coverage = self.exclude.covers(path)
        if coverage is Coverage.ALL:
            return None
        authenticate = self.authenticate
        if coverage is Coverage.NONE:
            return authenticate
        exclude = self.exclude

        def unless_excluded(connection: Request) -> None:
            if not exclude.matches(connection.path):
                authenticate(connection)

        return unless_excluded

    def openapi_scheme(self) -> dict[str, Any]:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}

    def openapi_security(self, route: CompiledRoute, app: App) -> list[dict[str, list[str]]]:
        """The operation's `security` entries for the verifier (`{}`: anonymous allowed)."""
        coverage = self.covers(route, app)
        if coverage is Coverage.NONE:
            return []
        if self.required and coverage is Coverage.ALL:
            return [{self.scheme_name: []}]
        return [{self.scheme_name: []}, {}]
