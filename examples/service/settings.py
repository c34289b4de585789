"""The service's settings, read once from the environment (`Settings.from_env()`).

SERVICE_DATABASE_URL   postgresql://127.0.0.1:5432/ambi_service  (no driver suffix:
                       the async engine adds +asyncpg, the sync one +psycopg)
SERVICE_REDIS_URL      redis://127.0.0.1:6379/0
SERVICE_REDIS_PREFIX   ambi-service:  (every key and channel of the service starts so)
SERVICE_JWT_SECRET     the HS256 secret of the access tokens (32 bytes at least)
SERVICE_TOKEN_MINUTES  how long an access token lives (default 30)
SERVICE_PASSWORD_ITERATIONS  PBKDF2-SHA256 rounds of stored passwords (default 200000)
SERVICE_POOL_SIZE      connections per pool and per process (default 8; three pools:
                       SQLAlchemy sync, SQLAlchemy async, the raw asyncpg pool)
SERVICE_SYNC_WORKERS   threads of ambi's pool for the `def` routes (default: as many as
                       SERVICE_POOL_SIZE). A `def` route here waits for one connection
                       of one pool, so a thread more than there are connections only
                       waits, and every waiting thread costs wake-ups around the GIL.
                       8 threads instead of 40: `/stats`' extra context switches over
                       `/stats/async` about halved (+3.5 a request against +6), the
                       mixed load's down 29%, its req/s up 12% (benchmarks/RESULTS.md,
                       session 10).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from urllib.parse import urlsplit, urlunsplit

DEV_SECRET = "development-only-secret-of-the-ambi-service-change-me"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = "postgresql://127.0.0.1:5432/ambi_service"
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = "ambi-service:"
    redis_timeout: float = 2.0
    jwt_secret: str = DEV_SECRET
    token_minutes: int = 30
    password_iterations: int = 200_000
    pool_size: int = 8
    #: None: as many threads as `pool_size` (`threads`)
    sync_workers: int | None = None
    max_upload_size: int = 5 * 1024 * 1024

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """The environment's settings (the defaults above for what it does not set), then
        `overrides`."""
        env, default = os.environ, cls()
        threads = env.get("SERVICE_SYNC_WORKERS")
        settings = cls(
            database_url=env.get("SERVICE_DATABASE_URL", default.database_url),
            redis_url=env.get("SERVICE_REDIS_URL", default.redis_url),
            redis_prefix=env.get("SERVICE_REDIS_PREFIX", default.redis_prefix),
            redis_timeout=float(env.get("SERVICE_REDIS_TIMEOUT", default.redis_timeout)),
            jwt_secret=env.get("SERVICE_JWT_SECRET", default.jwt_secret),
            token_minutes=int(env.get("SERVICE_TOKEN_MINUTES", default.token_minutes)),
            password_iterations=int(
                env.get("SERVICE_PASSWORD_ITERATIONS", default.password_iterations)
            ),
            pool_size=int(env.get("SERVICE_POOL_SIZE", default.pool_size)),
            sync_workers=None if threads is None else int(threads),
        )
        return replace(settings, **overrides)  # type: ignore[arg-type]

    @property
    def threads(self) -> int:
        """The threads of ambi's pool: `sync_workers`, or as many as `pool_size`."""
        return self.pool_size if self.sync_workers is None else self.sync_workers

    def _with_driver(self, driver: str) -> str:
        parts = urlsplit(self.database_url)
        scheme = parts.scheme.split("+")[0]
        return urlunsplit(parts._replace(scheme=f"{scheme}+{driver}"))

    @property
    def async_url(self) -> str:
        """SQLAlchemy's URL for the async engine (asyncpg)."""
        return self._with_driver("asyncpg")

    @property
    def sync_url(self) -> str:
        """SQLAlchemy's URL for the sync engine (psycopg 3)."""
        return self._with_driver("psycopg")

    @property
    def dsn(self) -> str:
        """The plain libpq URL (for the raw asyncpg pool)."""
        parts = urlsplit(self.database_url)
        return urlunsplit(parts._replace(scheme="postgresql"))

    @property
    def cache_store(self) -> str:
        """The ambi cache store URL: Redis, under the service's prefix."""
        separator = "&" if "?" in self.redis_url else "?"
        return (
            f"{self.redis_url}{separator}prefix={self.redis_prefix}cache:"
            f"&timeout={self.redis_timeout}"
        )

    def feed_channel(self, user_id: int) -> str:
        """The Redis pub/sub channel carrying one user's changes."""
        return f"{self.redis_prefix}feed:{user_id}"
