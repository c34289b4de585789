"""The app: settings in, an `App` out (`create_app`), and `app` for servers to import
(`examples.service.app:app`, configured from the environment).

`app` is made on first use (PEP 562 `__getattr__`), not at import: an app configures
process-wide things (its Redis store joins those `ambi.invalidate()` reaches), which a
program importing only `create_app` (the tests, the FastAPI twin) must not get."""

from __future__ import annotations

from typing import Any

from ambi import App

from .db import Database
from .migrations import migrate
from .routes import accounts, files, insight, projects, tasks
from .settings import Settings

DESCRIPTION = """A task tracker on PostgreSQL and Redis, the ambi reference service.

Register (`POST /auth/register`), log in (`POST /auth/login`, the OAuth2 password form)
and send the token as `Authorization: Bearer <token>` (the Authorize button).
"""

#: Paths anyone may call; every other route needs a valid bearer token.
PUBLIC = ["/auth/", "/health", "/metrics"]


def create_app(settings: Settings | None = None) -> App:
    settings = settings or Settings.from_env()
    app = App(
        title="ambi task tracker",
        version="1.0.0",
        description=DESCRIPTION,
        sync_workers=settings.threads,
    )
    app.enable_jwt(settings.jwt_secret, required=True, exclude=PUBLIC)
    app.enable_cache(settings.cache_store)
    app.enable_metrics("/metrics")
    for module in (accounts, projects, tasks, files, insight):
        app.include_router(module.router)

    @app.on_event("startup")
    def apply_migrations() -> None:
        """The schema first (a `def` hook: it runs in the thread pool, off the loop)."""
        migrate(settings.sync_url)

    @app.on_event("startup")
    async def open_connections() -> None:
        """The pools, made on the app's loop (the asyncpg pool must be)."""
        app.state.db = await Database.open(settings)

    @app.on_event("shutdown")
    async def close_connections() -> None:
        db: Database | None = getattr(app.state, "db", None)
        if db is not None:
            await db.close()

    @app.get("/health", tags=["service"])
    async def health() -> dict[str, Any]:
        """Up, and the database answers."""
        db: Database = app.state.db
        return {"status": "ok", "database": await db.pool.fetchval("SELECT 1") == 1}

    return app


_app: list[App] = []


def __getattr__(name: str) -> Any:
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if not _app:
        _app.append(create_app())
    return _app[0]
