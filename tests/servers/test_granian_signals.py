"""A Granian worker's stop event, set by SIGINT and SIGTERM arriving together (Ctrl-C: the
group's SIGINT, then the main process's SIGTERM), must not hang the worker's loop thread.

Each case runs in a subprocess: the bug being guarded against blocks a thread in Rust with
the GIL held, which nothing but SIGKILL ends.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import asyncio, os, signal, sys

    from granian import _signals

    from ambi.servers import _granian_signals

    fixed, loop_kind = sys.argv[1] == "fixed", sys.argv[2]
    if fixed:
        _granian_signals.set_stop_event_once()
    if loop_kind == "uvloop":
        import uvloop

        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    event = _signals.set_loop_signals(loop)  # as Granian's worker does, at its start

    async def told_to_stop_twice():
        await asyncio.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)  # the terminal's, to the whole group
        os.kill(os.getpid(), signal.SIGTERM)  # Granian's main process's terminate()
        await asyncio.sleep(0.3)  # both handled by the loop meanwhile

    loop.run_until_complete(told_to_stop_twice())
    print("stopped")
    """
)


def run(mode: str, loop: str, timeout: float) -> subprocess.CompletedProcess[str] | None:
    """The script's outcome, or None when it hung and had to be killed."""
    try:
        return subprocess.run(
            [sys.executable, "-c", SCRIPT, mode, loop],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:  # run() kills the child (SIGKILL) before raising
        return None


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
def test_two_stop_signals_leave_the_worker_loop_running(loop: str) -> None:
    done = run("fixed", loop, timeout=20)
    assert done is not None, "the loop thread hung on the second stop signal"
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "stopped"


def test_granian_alone_still_hangs_on_the_second_signal() -> None:
    """The reason for `_granian_signals`: when this fails, Granian has fixed its
    `WorkerSignal.set` (a blocking send on a channel of one) and the wrapper can go."""
    done = run("plain", "asyncio", timeout=3)
    assert done is None, "Granian no longer hangs on a second stop signal: drop the wrapper"
