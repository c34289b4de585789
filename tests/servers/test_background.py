"""Per-request background tasks on a real server: the client has its whole response
before the task starts, and the task still runs to the end."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

pytestmark = pytest.mark.server


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_the_response_arrives_before_a_two_second_task(base_url: str, kind: str) -> None:
    token = uuid.uuid4().hex
    with httpx.Client(base_url=base_url, timeout=10) as client:
        started = time.perf_counter()
        response = client.get(f"/background/{kind}/{token}")
        elapsed = time.perf_counter() - started
        assert response.json() == {"queued": token}
        assert elapsed < 1.5, f"the response waited for the task ({elapsed:.2f} s)"
        assert token not in client.get("/records").json()
        deadline = time.monotonic() + 10
        while token not in client.get("/records").json():
            assert time.monotonic() < deadline, "the background task never finished"
            time.sleep(0.05)
