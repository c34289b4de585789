"""The service as `make service-demo` runs it (`python -m examples.service`, Granian, here
with two workers): it prints where it serves, a write on one worker reaches the SSE feed
held by any worker (Redis pub/sub), and `/stats` (def + smartasync) answers 64 concurrent
calls as `/stats/async` does."""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from examples.service.settings import Settings

from ...servers.conftest import free_port, start_process

pytestmark = pytest.mark.server


def _event(lines: object, name: str) -> dict[str, str]:
    """Read SSE lines until an event called `name`; its fields."""
    fields: dict[str, str] = {}
    for line in lines:  # type: ignore[attr-defined]
        if not line:
            if fields.get("event") == name:
                return fields
            fields = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(": ")
            fields[key] = value
    raise AssertionError(f"the stream ended before a {name!r} event")


def test_the_demo_serves_feeds_and_bridges(
    tmp_path: Path, service_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = service_settings
    for name, value in (
        ("DATABASE_URL", s.database_url),
        ("REDIS_URL", s.redis_url),
        ("REDIS_PREFIX", s.redis_prefix),
        ("JWT_SECRET", s.jwt_secret),
        ("PASSWORD_ITERATIONS", str(s.password_iterations)),
        ("POOL_SIZE", "4"),
    ):
        monkeypatch.setenv(f"SERVICE_{name}", value)
    port = free_port()
    argv = [sys.executable, "-m", "examples.service", "--port", str(port), "--workers", "2"]
    server = start_process(argv, port, tmp_path, name="service", ready_path="/health")
    base = server.base_url
    try:
        assert f"service: API on {base}" in server.stdout
        with httpx.Client(base_url=base, timeout=10) as client:
            client.post("/auth/register", json={"username": "live", "password": "live-pass"})
            token = client.post(
                "/auth/login", data={"username": "live", "password": "live-pass"}
            ).json()["access_token"]
            client.headers["authorization"] = f"Bearer {token}"
            project = client.post("/projects", json={"name": "live"}).json()["id"]
            with client.stream("GET", "/feed") as feed:
                assert feed.headers["content-type"].startswith("text/event-stream")
                lines = feed.iter_lines()
                _event(lines, "ready")
                task = client.post(f"/projects/{project}/tasks", json={"title": "hi"}).json()
                # the project's own change may come first (published after its response)
                change = _event(lines, "change")
                if json.loads(change["data"])["entity"] == "project":
                    change = _event(lines, "change")
            data = json.loads(change["data"])
            assert (data["action"], data["entity"], data["id"]) == ("create", "task", task["id"])
            assert data["data"] == {"project_id": project, "title": "hi"}
            assert change["id"] == str(data["audit_id"])

            def call(path: str) -> tuple[int, str]:
                response = client.get(path)
                return response.status_code, response.text

            with ThreadPoolExecutor(64) as pool:
                answers = list(pool.map(call, ["/stats", "/stats/async"] * 64))
            expected = (200, '{"projects":1,"tasks":1,"done":0}')
            assert set(answers) == {expected}, set(answers)
    finally:
        assert server.stop() == 0, server.describe()
