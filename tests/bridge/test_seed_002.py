"""Seed 002 (SmartAsync, scenario A1: a sync application calling async libraries): every
example runs on ambi with only its import line changed, and behaves as the text says,
including the multi-threaded use the document warns is unsafe in SmartAsync 0.5.

Each example is a module in `seed002/`, copied verbatim (free names the document leaves
undefined, such as `process` and `urls`, are defined beside it). The network, aiofiles and
asyncpg are replaced by the local stand-ins of `seed002/_stand_ins.py`.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import subprocess
import sys
import threading
import types
from pathlib import Path

import httpx
import pytest

from .seed002._stand_ins import CHUNKS, ROUTES, STAND_INS, FakeAsyncClient, FakeConnection

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fake_http(monkeypatch: pytest.MonkeyPatch) -> type[FakeAsyncClient]:
    monkeypatch.setattr(httpx, "AsyncClient", FakeAsyncClient)
    for name, attribute, stand_in in STAND_INS:  # the real libraries, when installed
        monkeypatch.setattr(importlib.import_module(name), attribute, stand_in)
    FakeAsyncClient.requested.clear()
    FakeAsyncClient.loops.clear()
    FakeConnection.executed.clear()
    return FakeAsyncClient


@pytest.fixture
def seed() -> types.SimpleNamespace:
    """The example modules. Imported here, not at collection: they need `from ambi import
    smartasync`, and a missing export should fail these tests, not the whole run."""
    from .seed002 import (
        c002_antipatterns,
        c002_api_client,
        c002_fetcher,
        c002_pipeline,
        c002_threads,
    )

    return types.SimpleNamespace(
        fetcher=c002_fetcher,
        pipeline=c002_pipeline,
        api_client=c002_api_client,
        antipatterns=c002_antipatterns,
        threads=c002_threads,
    )


def test_fetcher_in_sync_code_no_await(seed: types.SimpleNamespace) -> None:
    # Usage in sync code - NO await needed!
    fetcher = seed.fetcher.DataFetcher()
    data = fetcher.fetch("https://api.example.com/users")
    print(data)
    assert data == ROUTES["/users"]


def test_fetcher_in_async_code(seed: types.SimpleNamespace) -> None:
    assert asyncio.run(seed.fetcher.process()) == ROUTES["/users"]


def test_pipeline_usage_same_as_before(
    seed: types.SimpleNamespace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    DataPipeline = seed.pipeline.DataPipeline  # the document's import, in effect

    # Usage - same as before!
    pipeline = DataPipeline()
    data = pipeline.fetch_data("https://api.example.com/data")
    pipeline.download_file("https://cdn.example.com/file.zip", "file.zip")
    pipeline.save_to_db(data)

    assert data == ROUTES["/data"]
    assert (tmp_path / "file.zip").read_bytes() == b"".join(CHUNKS)
    assert FakeConnection.executed == [("INSERT INTO results VALUES ($1)", (data,))]
    assert len(FakeAsyncClient.loops) == 1  # every call on this thread's one loop


def test_migrated_api_client(seed: types.SimpleNamespace) -> None:
    # Usage - SAME!
    client = seed.api_client.APIClient()
    users = client.fetch_users()  # No await needed!
    assert users == ROUTES["/users"]


def test_awaiting_from_another_async_method_works(seed: types.SimpleNamespace) -> None:
    """Anti-pattern 2: "This actually works fine! SmartAsync detects async context." """
    pipeline = seed.antipatterns.Pipeline()
    assert asyncio.run(pipeline.process()) == {"fetched": seed.antipatterns.url}
    assert pipeline.fetch("sync") == {"fetched": "sync"}


def test_batch_in_async_context(seed: types.SimpleNamespace) -> None:
    """Anti-pattern 3's fix: coroutines made in a list comprehension, gathered."""
    urls = [f"https://api.example.com/item/{i}" for i in range(20)]
    # Run once
    results = asyncio.run(seed.antipatterns.fetch_all(urls))
    assert results == [{"item": i} for i in range(20)]


@pytest.mark.parametrize("worker", ["worker", "worker_per_thread", "worker_thread_local"])
def test_threads_sharing_or_not_an_instance(seed: types.SimpleNamespace, worker: str) -> None:
    """The shared-instance example is "UNSAFE" in SmartAsync 0.5; in ambi all three work."""
    module = seed.threads
    module.processed.clear()
    urls = module.urls
    threads = [threading.Thread(target=getattr(module, worker), args=(url,)) for url in urls]
    for t in threads:
        t.start()
    for t in threads:  # not in the document: the test waits for them
        t.join()
    assert sorted(d["item"] for d in module.processed) == list(range(len(urls)))


def test_multiprocessing_pool() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "tests.bridge.seed002.c002_multiprocessing"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    items = sorted(int(line.split()[1]) for line in proc.stdout.splitlines())
    assert items == list(range(8))


# "Testing Strategy": the document's test module, verbatim but for its import line.


def test_fetch_data_sync(seed: types.SimpleNamespace) -> None:
    """Test in sync context (fast)."""
    DataPipeline = seed.pipeline.DataPipeline  # the document's import, in effect
    pipeline = DataPipeline()
    data = pipeline.fetch_data("https://api.example.com/test")
    assert data["status"] == "ok"


@pytest.mark.asyncio
async def test_fetch_data_async(seed: types.SimpleNamespace) -> None:
    """Test in async context (integration)."""
    DataPipeline = seed.pipeline.DataPipeline  # the document's import, in effect
    pipeline = DataPipeline()
    data = await pipeline.fetch_data("https://api.example.com/test")
    assert data["status"] == "ok"
