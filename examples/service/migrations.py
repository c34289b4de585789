"""Schema migrations: numbered steps, each applied once, in order, in one transaction.

`migrate(url)` is what `python -m examples.service migrate` and the app's startup run.
Workers starting together are serialised by a PostgreSQL advisory lock: the first applies
what is missing, the others then find nothing to do. The applied versions are kept in the
`schema_version` table.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import NullPool

from .models import Base

#: An arbitrary 64-bit key naming this service's migration lock.
LOCK_KEY = 0x616D6269_73766300


def _initial(conn: Connection) -> None:
    Base.metadata.create_all(conn)


def _audit_by_time(conn: Connection) -> None:
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_audit_user_at ON audit (user_id, at DESC)"))


MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "users, projects, tasks, attachments, audit", _initial),
    (2, "audit listed newest first per user", _audit_by_time),
]


def migrate(sync_url: str) -> list[int]:
    """Apply the missing migrations to the database at `sync_url`; return their versions."""
    engine = create_engine(sync_url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
            conn.execute(
                text(
                    "CREATE TABLE IF NOT EXISTS schema_version ("
                    " version integer PRIMARY KEY, description text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())"
                )
            )
            done = set(conn.execute(text("SELECT version FROM schema_version")).scalars())
            applied = []
            for version, description, step in MIGRATIONS:
                if version in done:
                    continue
                step(conn)
                conn.execute(
                    text("INSERT INTO schema_version (version, description) VALUES (:v, :d)"),
                    {"v": version, "d": description},
                )
                applied.append(version)
            return applied
    finally:
        engine.dispose()
