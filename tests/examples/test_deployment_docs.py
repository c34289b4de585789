"""docs/deployment.md shows the very files examples/cluster runs: nginx.conf (the cluster
test's load balancer) and the systemd units (checked by `systemd-analyze verify`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "cluster"
DOCS = ROOT / "docs" / "deployment.md"


@pytest.mark.parametrize("name", ["nginx.conf", "ambi-app.service", "ambi-worker.service"])
def test_the_docs_show_the_files_as_they_are(name: str) -> None:
    assert (EXAMPLE / name).read_text().strip() in DOCS.read_text()


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="no systemd-analyze here")
@pytest.mark.parametrize("name", ["ambi-app.service", "ambi-worker.service"])
def test_the_systemd_units_verify(name: str, tmp_path: Path) -> None:
    # the unit as shipped, but for what only a real host has: the ambi user and its venv
    text = (EXAMPLE / name).read_text()
    text = text.replace("/srv/ambi/.venv/bin/ambi", shutil.which("true") or "/bin/true")
    text = text.replace("User=ambi", "User=root")
    unit = tmp_path / name
    unit.write_text(text)
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr  # unknown keys and bad values are warnings
