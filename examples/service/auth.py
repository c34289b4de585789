"""Who is calling: passwords and access tokens are made in `credentials.py`; ambi's
`app.enable_jwt(...)` verifies the tokens on every route but the excluded ones and puts their
claims on `request.auth`, which `current_user_id` reads.
"""

from __future__ import annotations

from ambi import HTTPException, Request

from .credentials import check_unknown_user, create_token, hash_password, verify_password

__all__ = [
    "check_unknown_user",
    "create_token",
    "current_user_id",
    "hash_password",
    "verify_password",
]


def current_user_id(request: Request) -> int:
    """The signed-in user's id, from the verified token's claims (`request.auth`)."""
    claims = request.auth
    try:
        return int(claims["sub"])
    except (TypeError, KeyError, ValueError):
        raise HTTPException(401, "Invalid token: no user", {"www-authenticate": "Bearer"}) from None
