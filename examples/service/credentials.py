"""Credentials, framework-free (the FastAPI twin in benchmarks/service_fastapi uses them
too). Access tokens: HS256 JWTs made by PyJWT, `sub` the user id. Stored passwords:
PBKDF2-SHA256 (stdlib `hashlib`, which releases the GIL while it
hashes) with a per-user salt, in the form `pbkdf2_sha256$<iterations>$<salt>$<digest>`."""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import UTC, datetime, timedelta

import jwt

from .settings import Settings


def hash_password(password: str, iterations: int, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _, iterations, salt, _ = stored.split("$")
        expected = hash_password(password, int(iterations), bytes.fromhex(salt))
    except ValueError:
        return False
    return hmac.compare_digest(expected, stored)


#: A hash to check against when the user does not exist: as slow as a real check, so
#: response times do not tell which usernames exist.
_DUMMY: dict[int, str] = {}


def check_unknown_user(password: str, iterations: int) -> None:
    stored = _DUMMY.get(iterations)
    if stored is None:
        stored = _DUMMY[iterations] = hash_password("x", iterations)
    verify_password(password, stored)


def create_token(settings: Settings, user_id: int, username: str) -> tuple[str, int]:
    lifetime = settings.token_minutes * 60
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "name": username,
        "iat": now,
        "exp": now + timedelta(seconds=lifetime),
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256"), lifetime
