"""The reference-service benchmark's data: a database of its own, seeded users, projects and
tasks, their tokens, and the wrk Lua script of the request mix (bench_service.py)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

import psycopg
from examples.service.credentials import create_token, hash_password
from examples.service.migrations import migrate
from examples.service.settings import Settings
from psycopg import sql

ADMIN_DSN = "postgresql://127.0.0.1:5432/test"
USERS = 16
TASKS_PER_PROJECT = 30
PASSWORD = "bench-password"
#: PBKDF2 rounds of the seeded passwords: a login costs its hash (~0.5 ms here), so the
#: mix's logins measure the frameworks, not hashlib (the service's default is 200 000).
ITERATIONS = 1000


@dataclass(frozen=True, slots=True)
class Seeded:
    username: str
    token: str
    project: int
    tasks: tuple[int, ...]


def bench_settings() -> Settings:
    name = f"ambi_service_bench_{secrets.token_hex(4)}"
    return Settings(
        database_url=f"postgresql://127.0.0.1:5432/{name}",
        redis_prefix=f"ambi-service-bench-{name}:",
        jwt_secret=secrets.token_hex(32),
        token_minutes=240,
        password_iterations=ITERATIONS,
        pool_size=8,
    )


def env_of(settings: Settings) -> dict[str, str]:
    return {
        "SERVICE_DATABASE_URL": settings.database_url,
        "SERVICE_REDIS_URL": settings.redis_url,
        "SERVICE_REDIS_PREFIX": settings.redis_prefix,
        "SERVICE_JWT_SECRET": settings.jwt_secret,
        "SERVICE_TOKEN_MINUTES": str(settings.token_minutes),
        "SERVICE_PASSWORD_ITERATIONS": str(settings.password_iterations),
        "SERVICE_POOL_SIZE": str(settings.pool_size),
    }


def database_name(settings: Settings) -> str:
    return settings.dsn.rsplit("/", 1)[1]


def create(settings: Settings) -> list[Seeded]:
    """Create, migrate and seed the database; the seeded users with fresh tokens."""
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database_name(settings))))
    migrate(settings.sync_url)
    seeded = []
    stored = hash_password(PASSWORD, ITERATIONS)
    with psycopg.connect(settings.dsn) as conn:
        for index in range(USERS):
            username = f"bench-{index}"
            user = conn.execute(
                "INSERT INTO users (username, password_hash, created_at)"
                " VALUES (%s, %s, now()) RETURNING id",
                (username, stored),
            ).fetchone()[0]  # type: ignore[index]
            project = conn.execute(
                "INSERT INTO projects (owner_id, name, created_at)"
                " VALUES (%s, %s, now()) RETURNING id",
                (user, f"project {index}"),
            ).fetchone()[0]  # type: ignore[index]
            tasks = [
                conn.execute(
                    "INSERT INTO tasks (project_id, title, notes, done, created_at, updated_at)"
                    " VALUES (%s, %s, '', false, now(), now()) RETURNING id",
                    (project, f"task {n}"),
                ).fetchone()[0]  # type: ignore[index]
                for n in range(TASKS_PER_PROJECT)
            ]
            token, _ = create_token(settings, user, username)
            seeded.append(Seeded(username, token, project, tuple(tasks)))
    return seeded


def drop(settings: Settings) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(database_name(settings))
            )
        )
    import redis

    client = redis.Redis.from_url(settings.redis_url)
    try:
        keys = list(client.scan_iter(match=f"{settings.redis_prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


Request = tuple[str, str, dict[str, str], str | None, str]  # method, path, headers, body, kind

JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def user_mix(user: Seeded) -> list[Request]:
    """20 requests: 8 cached listings, 9 other reads (def and async), 2 writes, 1 login."""
    auth = {"Authorization": f"Bearer {user.token}"}
    p, (t1, t2, t3) = user.project, user.tasks[:3]
    listing: Request = ("GET", f"/projects/{p}/tasks?limit=20", auth, None, "cached")

    def get(path: str, kind: str) -> Request:
        return ("GET", path, auth, None, kind)

    return [
        ("POST", f"/projects/{p}/tasks", {**auth, **JSON}, '{"title": "bench"}', "write"),
        listing,
        get(f"/projects/{p}/tasks/{t1}", "read"),
        listing,
        get("/me", "read"),
        listing,
        get("/projects", "read"),
        ("PATCH", f"/projects/{p}/tasks/{t2}", {**auth, **JSON}, '{"done": true}', "write"),
        listing,
        get(f"/projects/{p}/tasks/{t2}", "read"),
        get("/stats", "read"),
        listing,
        get("/stats/async", "read"),
        ("POST", "/auth/login", FORM, f"username={user.username}&password={PASSWORD}", "login"),
        listing,
        get(f"/projects/{p}/tasks/{t3}", "read"),
        get("/me", "read"),
        listing,
        get("/projects", "read"),
        listing,
    ]


def lua(requests: list[Request], report: str) -> str:
    """A wrk script cycling through `requests` (each thread from its own offset)."""
    entries = []
    for method, path, headers, body, _ in requests:
        lua_headers = ", ".join(f'["{k}"] = {json.dumps(v)}' for k, v in headers.items())
        lua_body = "nil" if body is None else json.dumps(body)
        entries.append(f'  {{"{method}", "{path}", {{{lua_headers}}}, {lua_body}}},')
    return "\n".join(
        [
            "local mix = {",
            *entries,
            "}",
            "local prepared = {}",
            "local index = 0",
            "function init(args)",
            "  for i, r in ipairs(mix) do prepared[i] = wrk.format(r[1], r[2], r[3], r[4]) end",
            "  index = math.random(#prepared) - 1",
            "end",
            "function request()",
            "  index = index % #prepared + 1",
            "  return prepared[index]",
            "end",
            report,
        ]
    )
