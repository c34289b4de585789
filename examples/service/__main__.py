"""`python -m examples.service [serve | migrate] [--host H] [--port P] [--workers N]`

`serve` (the default) applies the migrations, then serves the app with `app.listen()`'s
defaults (Granian over RSGI) until Ctrl-C; `migrate` only applies the migrations. The
database named by `SERVICE_DATABASE_URL` must exist (`--create-db` creates it if not).
"""

from __future__ import annotations

import argparse
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from .migrations import migrate
from .settings import Settings


def create_database(settings: Settings) -> bool:
    """Create the settings' database if it does not exist (True if it was created)."""
    parts = urlsplit(settings.dsn)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m examples.service")
    parser.add_argument("command", nargs="?", choices=["serve", "migrate"], default="serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--create-db", action="store_true", help="create the database first")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    where = urlsplit(settings.dsn)
    if args.create_db and create_database(settings):
        print(f"service: created database {where.path.lstrip('/')}", flush=True)
    applied = migrate(settings.sync_url)
    print(
        f"service: schema of {where.hostname}:{where.port}{where.path} is up to date"
        + (f" (applied migrations {applied})" if applied else ""),
        flush=True,
    )
    if args.command == "migrate":
        return
    from .app import app

    base = f"http://{args.host}:{args.port}"
    print(f"service: API on {base}  docs {base}/docs  metrics {base}/metrics", flush=True)
    app.listen(host=args.host, port=args.port, workers=args.workers)


if __name__ == "__main__":
    main()
