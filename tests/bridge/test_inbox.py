"""Hand-offs from worker threads to the app's loop, started in batches (`ambi.bridge._inbox`):
each caller still gets its own result, error and contextvars; a closed loop refuses them."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import weakref
from typing import Any

from ambi import App, Depends, Request
from ambi.bridge import smartasync
from ambi.bridge._inbox import Inbox, inbox_for
from ambi.execution import Engine
from ambi.testing import AsyncTestClient

caller: contextvars.ContextVar[str] = contextvars.ContextVar("caller", default="-")


@smartasync
async def lookup(n: int) -> dict[str, Any]:
    seen = caller.get()
    await asyncio.sleep(0)  # a round trip, as a query makes
    if n % 7 == 3:
        raise LookupError(f"no {n}")
    caller.set(f"{seen}, looked up")  # flows back to the sync caller
    return {"n": n, "seen": seen}


def _worker_job(n: int) -> tuple[Any, str]:
    caller.set(f"job {n}")
    try:
        result: Any = lookup.sync(n)
    except LookupError as exc:
        result = str(exc)
    return result, caller.get()


async def test_many_workers_at_once_each_get_their_own_outcome() -> None:
    engine = Engine(sync_workers=16)
    try:
        outcomes = await asyncio.gather(*(engine.run_in_thread(_worker_job, n) for n in range(200)))
    finally:
        engine.stop()
    for n, (result, after) in enumerate(outcomes):
        if n % 7 == 3:
            assert (result, after) == (f"no {n}", f"job {n}")
        else:
            assert result == {"n": n, "seen": f"job {n}"}
            assert after == f"job {n}, looked up"


def _current_user(request: Request) -> int:
    return int(request.headers["x-user"])


async def test_def_and_async_routes_on_the_same_query_under_concurrency(interface: str) -> None:
    """The service's /stats pair: a def route (and its def dependency) reaching the app's
    loop through smartasync, beside its async def twin, 100 requests in flight."""
    app = App()

    @app.get("/sync")
    def sync_route(user: int = Depends(_current_user)) -> dict[str, Any]:
        caller.set(f"user {user}")
        try:
            return lookup.sync(user)  # type: ignore[no-any-return]
        except LookupError:
            return {"missing": user}

    @app.get("/async")
    async def async_route(user: int = Depends(_current_user)) -> dict[str, Any]:
        caller.set(f"user {user}")
        try:
            return await lookup.aio(user)  # type: ignore[no-any-return]
        except LookupError:
            return {"missing": user}

    async with AsyncTestClient(app, interface=interface) as client:  # type: ignore[arg-type]
        requests = [
            client.get(path, headers={"x-user": str(n)})
            for n in range(50)
            for path in ("/sync", "/async")
        ]
        answers = await asyncio.gather(*requests)
    for index, response in enumerate(answers):
        n = index // 2
        assert response.status_code == 200
        if n % 7 == 3:
            assert response.json() == {"missing": n}
        else:
            assert response.json() == {"n": n, "seen": f"user {n}"}


class _Item:
    def __init__(self) -> None:
        self.started: list[asyncio.AbstractEventLoop] = []
        self.refused = 0

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.started.append(loop)

    def refuse(self) -> None:
        self.refused += 1


def test_a_closed_loop_refuses_what_is_queued_and_what_comes_after() -> None:
    loop = asyncio.new_event_loop()
    inbox = Inbox(loop)
    first, second, third = _Item(), _Item(), _Item()
    inbox.put(first)
    inbox.put(second)  # behind the wake-up `first` asked for
    loop.close()  # before that wake-up ran: it is lost with the loop
    inbox.put(third)
    for item in (first, second, third):
        assert (item.refused, item.started) == (1, [])
    fourth = _Item()
    inbox.put(fourth)
    assert fourth.refused == 1


def test_items_queued_together_start_in_one_turn_of_the_loop() -> None:
    loop = asyncio.new_event_loop()
    try:
        inbox = Inbox(loop)
        items = [_Item() for _ in range(5)]
        for item in items:
            inbox.put(item)
        assert len(loop._ready) == 1  # type: ignore[attr-defined]  # one wake-up for five
        loop.run_until_complete(asyncio.sleep(0))
        assert all(item.started == [loop] for item in items)
        later = _Item()
        inbox.put(later)  # after that turn: a wake-up of its own
        loop.run_until_complete(asyncio.sleep(0))
        assert later.started == [loop]
    finally:
        loop.close()


def test_the_inbox_registry_does_not_keep_a_loop_alive() -> None:
    loop = asyncio.new_event_loop()
    inbox = inbox_for(loop)
    assert inbox_for(loop) is inbox
    ref = weakref.ref(loop)
    loop.close()
    del loop
    gc.collect()
    assert ref() is None
    item = _Item()
    inbox.put(item)  # the loop is gone: refused, not lost
    assert item.refused == 1
