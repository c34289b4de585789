"""Backpressure, limits and timeouts on a real server (issue 21): a full pool queue answers
`def` routes 503 at once while `async def` routes keep answering; `max_concurrency=` and
`timeout=` per route; on SIGTERM nothing queued goes unanswered."""

from __future__ import annotations

import asyncio
import signal
import socket
import statistics
import time

import httpx
import pytest

from ambi.servers._shutdown import UNCLEAN_EXIT

from .conftest import StartApp
from .test_adaptive_inline import clients, p99

pytestmark = pytest.mark.server


@pytest.fixture
def small_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """4 threads, 4 queued at most."""
    monkeypatch.setenv("AMBI_TEST_SYNC_WORKERS", "4")
    monkeypatch.setenv("AMBI_TEST_QUEUE_LIMIT", "4")


def raw_gets(port: int, target: str, n: int) -> list[tuple[int, str, float]]:
    """`n` GETs one after another on one keep-alive socket: (status, retry-after, seconds).

    A bare socket, so that the latency measured is the server's, not a client library's
    (httpx under coverage on a busy machine takes milliseconds itself)."""
    results = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        request = f"GET {target} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n".encode()
        reader = sock.makefile("rb")
        for _ in range(n):
            started = time.perf_counter()
            sock.sendall(request)
            status = int(reader.readline().split()[1])
            headers = {}
            while (line := reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            reader.read(int(headers.get("content-length", "0")))
            results.append((status, headers.get("retry-after", ""), time.perf_counter() - started))
    return results


async def timed_get(client: httpx.AsyncClient, url: str) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = await client.get(url)
    return response, time.perf_counter() - started


@pytest.mark.usefixtures("small_pool")
async def test_full_queue_is_refused_at_once_and_async_routes_keep_answering(
    start_app: StartApp,
) -> None:
    server = start_app("execution", ready_path="/ping")
    async with clients(server.base_url, 10) as made:
        probe, others = made[0], made[1:]
        # 4 running + 4 queued: the pool is saturated for 2.5 s
        busy = [asyncio.ensure_future(c.get("/sleep", params={"d": 2.5})) for c in others[:8]]
        await asyncio.sleep(0.3)
        refused = await asyncio.to_thread(raw_gets, server.port, "/sleep?d=0.1", 20)
        detail = (await others[8].get("/sleep", params={"d": 0.1})).json()["detail"]
        pings = await asyncio.to_thread(raw_gets, server.port, "/ping", 200)
        still_busy = sum(not task.done() for task in busy)
        served = await asyncio.gather(*busy)
        stats = (await probe.get("/stats")).json()

    assert still_busy == 8, "the refusals and health checks ran while the pool was full"
    assert [r.status_code for r in served] == [200] * 8
    assert {(status, retry_after) for status, retry_after, _ in refused} == {(503, "1")}
    assert detail.startswith("too many requests")
    median = statistics.median(took for _, _, took in refused)
    assert median < 0.05, f"a refusal took {median * 1000:.1f} ms (median)"
    health = [took for status, _, took in pings if status == 200]
    assert len(health) == 200
    assert p99(health) < 0.25, f"health check p99 {p99(health) * 1000:.0f} ms while saturated"
    assert stats["rejected"] == {"GET /sleep": 21}


async def test_max_concurrency(start_app: StartApp) -> None:
    server = start_app("execution", ready_path="/ping")
    async with clients(server.base_url, 4) as made:
        running = [asyncio.ensure_future(c.get("/limited", params={"d": 2.0})) for c in made[:2]]
        await asyncio.sleep(0.3)
        third, took = await timed_get(made[2], "/limited?d=0.1")
        served = await asyncio.gather(*running)
        after = await made[2].get("/limited", params={"d": 0.01})
        stats = (await made[3].get("/stats")).json()
    assert [r.status_code for r in served] == [200, 200]
    assert third.status_code == 503
    assert third.headers["retry-after"] == "1"
    assert took < 1.0  # refused at once, not after the 2 s the slots are held
    assert after.status_code == 200, "the slots are given back"
    assert stats["over_limit"] == {"GET /limited": 1}


async def test_timeouts(start_app: StartApp) -> None:
    server = start_app("execution", ready_path="/ping")
    async with clients(server.base_url, 2) as made:
        async_answer, async_took = await timed_get(made[0], "/timeout/async?d=2")
        sync_answer, sync_took = await timed_get(made[0], "/timeout/sync?d=1")
        fast = await made[0].get("/timeout/sync", params={"d": 0.01})
        late_before = (await made[1].get("/stats")).json()["late_finished"]
        await asyncio.sleep(1.0)  # the sync handler's thread finishes meanwhile
        stats = (await made[1].get("/stats")).json()
    assert async_answer.status_code == 504
    assert sync_answer.status_code == 504
    assert "0.3 s" in sync_answer.json()["detail"]
    assert 0.25 < async_took < 1.8
    assert 0.25 < sync_took < 0.9
    assert fast.status_code == 200
    assert stats["timed_out"] == {"GET /timeout/async": 1, "GET /timeout/sync": 1}
    assert late_before == 0
    assert stats["late_finished"] == 1, "the abandoned thread finished in the background"


def _get_all(base_url: str, url: str, n: int) -> list[int | str]:
    """`n` concurrent GETs; the status of each, or the error it ended with."""

    async def one(client: httpx.AsyncClient) -> int | str:
        try:
            return (await client.get(url)).status_code
        except httpx.HTTPError as exc:
            return type(exc).__name__

    async def run() -> list[int | str]:
        async with httpx.AsyncClient(base_url=base_url, timeout=20.0) as client:
            return list(await asyncio.gather(*(one(client) for _ in range(n))))

    return asyncio.run(run())


#: (shutdown_timeout, seconds each request sleeps, the status every request gets)
DRAINS = {"drained": ("10", "1", 200), "past-the-timeout": ("1", "3", 503)}


@pytest.mark.usefixtures("small_pool")
@pytest.mark.parametrize("case", list(DRAINS))
def test_sigterm_answers_every_queued_request(
    start_app: StartApp, server_path: str, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """8 requests for 4 threads, then SIGTERM: within the shutdown timeout they are served;
    past it, those still waiting (queued or running) are answered 503: none is dropped."""
    shutdown_timeout, sleep, expected = DRAINS[case]
    monkeypatch.setenv("AMBI_TEST_SHUTDOWN_TIMEOUT", shutdown_timeout)
    server = start_app("execution", server_path, ready_path="/ping")
    results: list[list[int | str]] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        requests = loop.run_in_executor(None, _get_all, server.base_url, f"/sleep?d={sleep}", 8)
        await asyncio.sleep(0.5)  # all 8 in: 4 running, 4 queued
        server.proc.send_signal(signal.SIGTERM)
        results.append(await requests)

    asyncio.run(main())
    code = server.wait(timeout=20)
    assert results[0] == [expected] * 8, server.describe()
    # work cut short at the shutdown timeout: the exit status says it (ambi.servers._shutdown)
    assert code == (0 if expected == 200 else UNCLEAN_EXIT), server.describe()
    assert server.marker.exists(), server.describe()
