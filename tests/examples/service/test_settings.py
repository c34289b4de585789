"""The service's settings from the environment: the thread pool follows the connection
pools unless it is set."""

from __future__ import annotations

import pytest
from examples.service.settings import Settings


def test_the_thread_pool_is_as_large_as_a_connection_pool_unless_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SERVICE_SYNC_WORKERS", raising=False)
    monkeypatch.delenv("SERVICE_POOL_SIZE", raising=False)
    assert (Settings.from_env().sync_workers, Settings.from_env().threads) == (None, 8)
    monkeypatch.setenv("SERVICE_POOL_SIZE", "6")
    assert Settings.from_env().threads == 6
    assert Settings.from_env(pool_size=3).threads == 3  # overrides are followed too
    monkeypatch.setenv("SERVICE_SYNC_WORKERS", "12")
    assert (Settings.from_env().sync_workers, Settings.from_env().threads) == (12, 12)
