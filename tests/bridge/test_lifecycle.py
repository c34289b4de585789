"""Loops made by smartasync are closed cleanly: at thread end, at interpreter exit (with any
suspended generator finished there), in a forked child (without breaking the parent), and
when freed by a garbage collection on a thread whose own loop is running."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import AsyncIterator

import pytest

from ambi.bridge import smartasync
from ambi.bridge._thread_loop import _ThreadLoop
from ambi.exceptions import BridgeError

STRICT = [sys.executable, "-X", "dev", "-W", "error"]  # any ResourceWarning shows


def run_script(source: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*STRICT, "-c", textwrap.dedent(source)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_interpreter_exit_closes_the_main_thread_loop_and_finishes_generators() -> None:
    proc = run_script(
        """
        import asyncio, gc, threading
        from ambi.bridge import smartasync

        @smartasync
        async def echo(x):
            await asyncio.sleep(0)
            return x

        @smartasync
        async def numbers():
            try:
                yield 1
                yield 2
            finally:
                await asyncio.sleep(0)
                print("generator finished at exit", flush=True)

        @smartasync
        async def cycled():
            try:
                yield 1
                yield 2
            finally:
                print("dropped generator closed", flush=True)

        assert echo(1) == 1
        suspended = numbers()
        assert next(suspended) == 1  # left suspended until the interpreter exits
        dropped = cycled()
        next(dropped)
        garbage = [dropped]
        garbage.append(garbage)  # only the garbage collector can free it
        del dropped, garbage
        gc.collect()
        assert echo(3) == 3  # runs the loop: the dropped generator's close runs there
        thread = threading.Thread(target=lambda: echo(2))
        thread.start()
        thread.join()
        print("main done", flush=True)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "dropped generator closed",
        "main done",
        "generator finished at exit",
    ]
    assert proc.stderr == ""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_gets_its_own_loop_and_leaves_the_parent_working() -> None:
    proc = run_script(
        """
        import asyncio, os, sys, time
        from ambi.bridge import smartasync

        @smartasync
        async def where():
            # completed from another thread: needs the loop's self-pipe wake-up
            await asyncio.get_running_loop().run_in_executor(None, time.sleep, 0.01)
            return id(asyncio.get_running_loop()), os.getpid()

        parent_loop, _ = where()
        pid = os.fork()
        if pid == 0:
            child_loop, child_pid = where()
            sys.exit(0 if child_pid == os.getpid() and child_loop != parent_loop else 3)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, status
        start = time.perf_counter()
        assert where()[0] == parent_loop
        elapsed = time.perf_counter() - start
        assert elapsed < 1, f"the parent's loop was not woken: {elapsed:.2f} s"
        print("ok")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
    assert "Warning" not in proc.stderr


def test_a_loop_closed_by_someone_else_is_replaced() -> None:
    leaked: list[asyncio.AbstractEventLoop] = []

    @smartasync
    async def leak_loop() -> None:
        leaked.append(asyncio.get_running_loop())

    @smartasync
    async def echo(x: int) -> int:
        return x

    def body() -> int:
        leak_loop()
        leaked[0].close()  # a library kept the loop and closed it
        return echo(5)

    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(body()))
    thread.start()
    thread.join()
    assert result == [5]


def test_loop_freed_on_a_running_loop_thread_is_finished_elsewhere() -> None:
    """A garbage collection can free a thread's loop holder anywhere; if that is on a
    thread whose loop is running, the leftover work is finished on a helper thread."""
    finished = threading.Event()
    holder = _ThreadLoop()
    blocker = holder.loop.create_future()

    async def pending() -> None:
        try:
            await blocker
        finally:
            finished.set()

    holder.loop.create_task(pending())
    loop = holder.loop
    loop.run_until_complete(asyncio.sleep(0))  # the task starts, and waits

    async def main() -> None:
        holder.close()  # here a loop runs, so ours cannot

    asyncio.run(main())
    assert finished.wait(5)
    for _ in range(100):
        if loop.is_closed():
            break
        threading.Event().wait(0.01)
    assert loop.is_closed()


def test_iterator_outliving_its_thread_says_so() -> None:
    @smartasync
    async def numbers() -> AsyncIterator[int]:
        yield 1
        yield 2

    made: list[object] = []

    def body() -> None:
        iterator = numbers()
        next(iterator)
        made.append(iterator)

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    with pytest.raises(BridgeError, match="thread that has ended"):
        next(made[0])  # type: ignore[call-overload]


def test_iterator_used_from_another_thread_says_so() -> None:
    @smartasync
    async def numbers() -> AsyncIterator[int]:
        yield 1
        yield 2

    iterator = numbers()
    assert next(iterator) == 1
    errors: list[BaseException] = []

    def other() -> None:
        try:
            next(iterator)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert len(errors) == 1
    assert isinstance(errors[0], BridgeError)
    assert "use it there" in str(errors[0])
    assert next(iterator) == 2


def test_interpreter_exit_is_not_held_by_a_task_that_ignores_cancellation() -> None:
    proc = run_script(
        """
        import asyncio
        from ambi.bridge import _thread_loop, smartasync

        _thread_loop._CLOSE_GRACE = 0.2

        async def stubborn():
            while True:
                try:
                    await asyncio.sleep(3600)
                except asyncio.CancelledError:
                    pass

        @smartasync
        async def start():
            asyncio.get_running_loop().create_task(stubborn(), name="stubborn")
            await asyncio.sleep(0)

        start()
        print("main done", flush=True)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert "main done" in proc.stdout
    assert "did not finish within 0.2 s of being cancelled (stubborn)" in proc.stderr
