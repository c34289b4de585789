"""The rate-limit stage's inlined token bucket (the app-wide default: in-process, keyed by
peer address) decides, counts and answers exactly as `MemoryLimiter._token_bucket`."""

from collections.abc import Coroutine
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ambi import App, HTTPException, RateLimitConfig
from ambi.http import JSONResponse, Request, Response
from ambi.ratelimit import _stage
from ambi.ratelimit._limit import Limit
from ambi.ratelimit._memory import MemoryLimiter


def finish(coro: Coroutine[Any, Any, Response]) -> Response:
    """Run a coroutine that never suspends (the stage around an immediate handler)."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    raise AssertionError("the stage suspended")


async def handler(request: Request) -> Response:
    return JSONResponse({"ok": True})


@given(
    st.integers(min_value=1, max_value=20),
    st.integers(min_value=1, max_value=1000),
    st.integers(min_value=1, max_value=120_000),
    st.booleans(),
    st.lists(st.integers(min_value=0, max_value=3_000_000), min_size=1, max_size=40),
)
def test_the_inlined_bucket_is_the_limiters(
    capacity: int, refill: int, window_ms: int, x_headers: bool, gaps_us: list[int]
) -> None:
    config = RateLimitConfig("token_bucket", capacity, window_ms, refill, x_headers=x_headers)
    limit = Limit(config, App(), "test")
    assert limit.bucket is not None
    stage = _stage._one_limit(limit, "GET /test").wrap(handler)
    reference = MemoryLimiter(config)
    request = SimpleNamespace(client_host="10.0.0.7")
    now_ns = 1_700_000_000_000_000_000
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_stage, "_monotonic_ns", lambda: now_ns)
        for gap in gaps_us:
            now_ns += gap * 1000
            expected = reference._token_bucket("10.0.0.7", now_ns // 1_000_000)
            if expected.allowed:
                response = finish(stage(request))  # type: ignore[arg-type]
                headers = dict(response.headers.items_list)
                assert headers == dict(limit.headers(expected)) | {
                    "content-type": "application/json"
                }
            else:
                with pytest.raises(HTTPException) as refused:
                    finish(stage(request))  # type: ignore[arg-type]
                assert refused.value.status_code == 429
                assert refused.value.headers == limit.refusal(expected, "GET /test").headers
