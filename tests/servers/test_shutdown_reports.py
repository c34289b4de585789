"""How the main process reads its workers' shutdown reports (`ambi.servers._shutdown`):
work cut short, or a worker that started and never finished its shutdown, is not clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from ambi.servers import _shutdown


@pytest.fixture
def reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "reports.log"
    monkeypatch.setenv(_shutdown.REPORT_ENV, str(path))
    return path


def _lines(path: Path, *lines: str) -> str:
    path.write_text("".join(f"{line}\n" for line in lines))
    return str(path)


def test_every_worker_up_and_down_cleanly_is_clean(tmp_path: Path) -> None:
    path = _lines(tmp_path / "r", "up 10", "up 11", "clean 11", "clean 10")
    assert _shutdown.unclean_workers(path) is None


def test_work_cut_short_is_not_clean(tmp_path: Path) -> None:
    path = _lines(tmp_path / "r", "up 10", "up 11", "unclean 10", "clean 11")
    assert "1 worker(s) cut work short" in (_shutdown.unclean_workers(path) or "")


def test_a_worker_killed_before_its_shutdown_ended_is_not_clean(tmp_path: Path) -> None:
    path = _lines(tmp_path / "r", "up 10", "up 11", "clean 10")
    assert "1 worker(s) ended without finishing" in (_shutdown.unclean_workers(path) or "")


def test_no_report_at_all_is_no_news(tmp_path: Path) -> None:
    """A server that never started the app (or a stand-in for one in a test)."""
    assert _shutdown.unclean_workers(str(tmp_path / "missing")) is None
    assert _shutdown.unclean_workers(_lines(tmp_path / "empty")) is None


def test_report_appends_this_process(reports: Path) -> None:
    _shutdown.report(_shutdown.UP)
    _shutdown.report(_shutdown.UNCLEAN)
    words = reports.read_text().split()
    assert words[::2] == ["up", "unclean"]
    assert words[1] == words[3]


def test_no_report_file_asked_for_nothing_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(_shutdown.REPORT_ENV, raising=False)
    _shutdown.report(_shutdown.UP)
    assert list(tmp_path.iterdir()) == []
