"""Each test's stores leave the process registry with the test, so that a store made to
fail here is never reached by a later test's `invalidate()`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ambi.cache import _registry


@pytest.fixture(autouse=True)
def forget_new_stores() -> Iterator[None]:
    before = set(_registry._stores)
    yield
    for store in set(_registry._stores) - before - set(_registry._default):
        _registry._stores.discard(store)
