"""`App.malloc_trim_threshold`: glibc's trim threshold, set at startup (`ambi._app._heap`)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import pytest

from ambi import App, ConfigurationError
from ambi._app import _heap
from ambi.testing import TestClient

glibc = pytest.mark.skipif(_heap._mallopt is None, reason="needs glibc's mallopt")


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return 1


@pytest.fixture
def mallopt(monkeypatch: pytest.MonkeyPatch) -> _Recorder:
    recorder = _Recorder()
    monkeypatch.setattr(_heap, "_mallopt", recorder)
    return recorder


@pytest.mark.parametrize("value", [-1, 2**31, "64MB", 1.5, True])
def test_bad_values_are_configuration_errors(value: object, mallopt: _Recorder) -> None:
    app = App()
    app.malloc_trim_threshold = value  # type: ignore[assignment]
    with pytest.raises(ConfigurationError, match="malloc_trim_threshold"):
        asyncio.run(app.startup())
    assert mallopt.calls == []


def test_a_number_is_set_at_startup_wherever_the_app_starts(mallopt: _Recorder) -> None:
    app = App()
    app.malloc_trim_threshold = 8 * 1024 * 1024
    with TestClient(app):
        pass
    assert mallopt.calls == [(-1, 8 * 1024 * 1024)]  # M_TRIM_THRESHOLD


def test_default_untouched_in_a_test_client(mallopt: _Recorder) -> None:
    app = App()
    with TestClient(app):
        pass
    assert app.malloc_trim_threshold is None
    assert mallopt.calls == []


@pytest.mark.parametrize("setting", [None, False, 1 << 20])
def test_in_a_granian_rsgi_worker(setting: int | bool | None, mallopt: _Recorder) -> None:
    app = App()
    app.malloc_trim_threshold = setting
    loop = asyncio.new_event_loop()
    try:
        app.__rsgi_init__(loop)
        app.__rsgi_del__(loop)
    finally:
        loop.close()
    expected = {None: [(-1, _heap.DEFAULT_TRIM_THRESHOLD)], False: [], 1 << 20: [(-1, 1 << 20)]}
    assert mallopt.calls == expected[setting]


def test_listen_sets_the_default(monkeypatch: pytest.MonkeyPatch, mallopt: _Recorder) -> None:
    from ambi.servers import _runner

    app = App()
    seen: list[int | bool | None] = []
    monkeypatch.setattr(
        _runner, "_serve_granian", lambda run: seen.append(run.app.malloc_trim_threshold)
    )
    app.listen(port=1)
    assert seen == [_heap.DEFAULT_TRIM_THRESHOLD]


def test_without_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_heap, "_mallopt", None)
    assert _heap.served_default() is False  # served: glibc's absence is no error
    app = App()
    app.malloc_trim_threshold = 1 << 20  # asked for explicitly: an error
    with pytest.raises(ConfigurationError, match="needs glibc"):
        asyncio.run(app.startup())


_BURST = """
import ctypes, resource, sys
if sys.argv[1] != "default":
    ctypes.CDLL(None).mallopt(-1, int(sys.argv[1]))
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
bodies = [None] * 200
for i in range(200):  # 200 bodies of 100 KB at once (heap blocks), then all freed
    bodies[i] = b"x" * 100_000
for i in range(200):
    bodies[i] = None
before = faults()
for i in range(200):  # the next burst
    bodies[i] = b"x" * 100_000
print(faults() - before)
"""


@glibc
def test_the_threshold_keeps_a_burst_of_bodies_in_the_process() -> None:
    """What it does (in a fresh process): 20 MB freed at once is given back to the system
    under glibc's default, and the next burst faults it in again page by page (~4,900
    faults); under ambi's served default it stays, and the next burst reuses it."""

    def page_faults(threshold: str) -> int:
        run = [sys.executable, "-c", textwrap.dedent(_BURST), threshold]
        return int(subprocess.run(run, capture_output=True, check=True, timeout=60).stdout)

    assert page_faults("default") > 3_000
    assert page_faults(str(_heap.DEFAULT_TRIM_THRESHOLD)) < 500
