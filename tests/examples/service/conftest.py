"""The reference service (examples/service) against the real PostgreSQL and Redis of this
machine: a database of its own per test session (`ambi_service_<random>`, dropped after)
and a Redis key prefix of its own (its keys deleted after). Nothing is faked."""

from __future__ import annotations

import secrets
import socket
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
import redis
from examples.service.app import create_app
from examples.service.migrations import migrate
from examples.service.settings import Settings
from psycopg import sql

from ambi import App
from ambi.testing import TestClient

ADMIN_DSN = "postgresql://127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def create_database(name: str) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


#: What each of three concurrent `migrate()` calls applied to the fresh database.
FIRST_MIGRATIONS: list[list[int]] = []


@pytest.fixture(scope="session")
def service_settings() -> Iterator[Settings]:
    """Settings naming a fresh database and Redis prefix; both removed after the session.
    The database is migrated by three concurrent `migrate()` calls, as workers starting
    together do (`FIRST_MIGRATIONS` keeps what each applied)."""
    if not (_answers(5432) and _answers(6379)):
        pytest.skip("the service tests need PostgreSQL on :5432 and Redis on :6379")
    name = f"ambi_service_{secrets.token_hex(4)}"
    create_database(name)
    settings = Settings(
        database_url=f"postgresql://127.0.0.1:5432/{name}",
        redis_url=REDIS_URL,
        redis_prefix=f"ambi-service-test-{name}:",
        jwt_secret=secrets.token_hex(32),
        password_iterations=1000,  # the test suite's speed; the default is 200 000
        pool_size=4,
    )
    try:
        with ThreadPoolExecutor(3) as pool:
            FIRST_MIGRATIONS.extend(pool.map(migrate, [settings.sync_url] * 3))
        yield settings
    finally:
        drop_database(name)
        client = redis.Redis.from_url(REDIS_URL)
        try:
            keys = list(client.scan_iter(match=f"{settings.redis_prefix}*", count=1000))
            if keys:
                client.delete(*keys)
        finally:
            client.close()


@pytest.fixture
def service_app(service_settings: Settings) -> App:
    return create_app(service_settings)


@pytest.fixture
def client(service_app: App) -> Iterator[TestClient]:
    """A started client (startup: migrations, then the pools) over RSGI, the interface
    `app.listen()` serves (`test_task_lifecycle_across_def_and_async_routes` runs over
    ASGI too)."""
    with TestClient(service_app, interface="rsgi") as client:
        yield client


def sign_up(client: TestClient, password: str = "correct horse") -> dict[str, Any]:
    """A new user, logged in: its name, id and `Authorization` header."""
    username = f"user-{uuid.uuid4().hex[:12]}"
    created = client.post("/auth/register", json={"username": username, "password": password})
    assert created.status_code == 201, created.text
    login = client.post("/auth/login", data={"username": username, "password": password})
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    return {
        "username": username,
        "id": created.json()["id"],
        "headers": {"authorization": f"Bearer {token}"},
    }


def new_project(client: TestClient, headers: dict[str, str], name: str = "home") -> int:
    response = client.post("/projects", json={"name": name}, headers=headers)
    assert response.status_code == 201, response.text
    project_id: int = response.json()["id"]
    return project_id
