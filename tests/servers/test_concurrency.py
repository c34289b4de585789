"""`def` and `async def` handlers under load on a real server: they overlap, and blocking
handlers never hold up the event loop.

Each concurrent request gets its own `httpx.AsyncClient` with a warm connection: one shared
client's pool costs seconds of client-side CPU with a few hundred requests in flight
(measured: ~1 s for 200 instant requests), which would measure httpx, not the server.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
import pytest

pytestmark = pytest.mark.server


@asynccontextmanager
async def warm_clients(base_url: str, n: int) -> AsyncIterator[list[httpx.AsyncClient]]:
    """`n` clients, each already connected (one request made), closed on exit."""
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                # verify=False: plain http, and it skips loading the CA bundle per client
                httpx.AsyncClient(base_url=base_url, timeout=15.0, verify=False)
            )
            for _ in range(n)
        ]
        await asyncio.gather(*(client.get("/async/ping") for client in clients))
        yield clients


async def _timed_gather(clients: list[httpx.AsyncClient], url: str) -> tuple[float, set[int]]:
    start = time.perf_counter()
    responses = await asyncio.gather(*(client.get(url) for client in clients))
    return time.perf_counter() - start, {r.status_code for r in responses}


async def test_sync_handlers_overlap_in_the_pool(base_url: str) -> None:
    """20 x `def` + time.sleep(0.5): together well under 2 s (one after another: 10 s)."""
    async with warm_clients(base_url, 20) as clients:
        elapsed, statuses = await _timed_gather(clients, "/sync/sleep?d=0.5")
    assert statuses == {200}
    assert elapsed < 2.0, f"20 sync sleeps took {elapsed:.2f} s"


async def test_async_handlers_overlap_on_the_loop(base_url: str) -> None:
    """200 x `async def` + asyncio.sleep(1): together well under the 5 s they would take
    40 at a time (as in a 40-thread pool), let alone one by one (200 s). The margin is for
    a loaded CI machine, where 200 requests from this process took over 2 s to send."""
    async with warm_clients(base_url, 200) as clients:
        elapsed, statuses = await _timed_gather(clients, "/async/sleep?d=1.0")
    assert statuses == {200}
    assert elapsed < 3.5, f"200 async sleeps took {elapsed:.2f} s"


async def test_slow_sync_handlers_do_not_block_async_routes(base_url: str) -> None:
    """While 20 blocking requests are in flight, an async route keeps answering at once.

    A loop held by the sleeps would show as answers of ~1.2 s; the bounds are generous
    against a busy CI machine (a single 236 ms answer was seen there).
    """
    async with warm_clients(base_url, 21) as clients:
        probe, slow_clients = clients[0], clients[1:]
        slow_started = time.perf_counter()
        slow = [asyncio.ensure_future(c.get("/sync/sleep?d=1.5")) for c in slow_clients]
        await asyncio.sleep(0.3)  # let them reach the handlers
        latencies = []
        for _ in range(50):
            start = time.perf_counter()
            response = await probe.get("/async/ping")
            latencies.append(time.perf_counter() - start)
            assert response.status_code == 200
        probes_done = time.perf_counter() - slow_started
        still_in_flight = sum(not task.done() for task in slow)
        slow_responses = await asyncio.gather(*slow)
    assert {r.status_code for r in slow_responses} == {200}
    assert still_in_flight == 20, "the probes should have run while the slow requests ran"
    assert probes_done < 1.5
    assert statistics.median(latencies) < 0.05, f"median async answer: {latencies}"
    assert max(latencies) < 0.5, f"slowest async answer: {max(latencies) * 1000:.0f} ms"
