"""The user guide builds (strict: a warning fails it), has every page, and renders in a
browser: the home page and the execution model's diagram (mermaid, loaded offline)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

pytest.importorskip("mkdocs", reason="mkdocs is not installed: pip install 'ambi[docs]'")

# the build and three browser runs take about 10 s of CPU; a busy machine stretches the wall
# time (up to 40 s seen at load average 20 on 2 cores), so these tests get more than 60 s
pytestmark = pytest.mark.timeout(300)

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
BUILD_TIMEOUT = 180  # seconds; about 5 s on an idle machine
BROWSER_TIMEOUT = 60


def pages() -> list[str]:
    """Every page of the guide, as its path under docs/ (`tutorial/index.md`)."""
    skip = {"examples", "hooks"}
    return sorted(
        str(path.relative_to(DOCS))
        for path in DOCS.rglob("*.md")
        if path.relative_to(DOCS).parts[0] not in skip
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make docs`, into a temporary folder."""
    out = tmp_path_factory.mktemp("site")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    log = built.stdout + built.stderr
    assert built.returncode == 0, log
    assert "WARNING" not in log, log
    return out


def test_every_page_is_in_the_nav_and_built(site: Path) -> None:
    config = (ROOT / "mkdocs.yml").read_text()
    assert len(pages()) >= 30
    for page in pages():
        assert f": {page}\n" in config, f"{page} is not in mkdocs.yml's nav"
        html = site / page.replace(".md", ".html")
        assert html.is_file(), f"{page} was not built"
        assert "<article" in html.read_text(encoding="utf-8")


def test_examples_are_included_verbatim(site: Path) -> None:
    """A page shows its example's code (snippets), not a stale copy."""
    page = (site / "tutorial" / "index.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", page)
    assert "async def hello(name: str, excited: bool = False):" in text.replace("&quot;", '"')


def test_api_reference_documents_the_public_names(site: Path) -> None:
    import ambi

    page = (site / "api" / "ambi.html").read_text(encoding="utf-8")
    documented = set(re.findall(r'id="ambi\.(\w+)"', page))
    public = {name for name in ambi.__all__ if not name.startswith("_")}
    # pydantic's BaseModel is pydantic's to document; `status` is a module of constants;
    # `cache` (the decorator) is documented with its module, as ambi.cache.cache
    assert public - documented == {"BaseModel", "status", "cache"}
    cache = (site / "api" / "cache.html").read_text(encoding="utf-8")
    assert 'id="ambi.cache.cache"' in cache
    testing = (site / "api" / "testing.html").read_text(encoding="utf-8")
    assert 'id="ambi.testing.TestClient"' in testing


def test_performance_charts_are_drawn_from_the_results(site: Path) -> None:
    page = (site / "performance.html").read_text(encoding="utf-8")
    assert page.count('<svg class="bench-chart"') == 7
    assert "<!-- chart " not in page
    assert "274bb1c" in page  # the commit of the recorded full run


def test_the_diagram_is_mermaid_with_its_script_shipped(site: Path) -> None:
    page = (site / "execution-model.html").read_text(encoding="utf-8")
    assert '<pre class="mermaid">' in page
    script = re.search(r'src="(assets/javascripts/mermaid-[\d.]+\.min\.js)"', page)
    assert script is not None
    assert (site / script[1]).stat().st_size > 1_000_000


def test_no_page_loads_anything_from_the_internet(site: Path) -> None:
    """Scripts, styles and fonts are all in site/: it reads offline."""
    external = re.compile(r"<(?:script|link|img)\b[^>]*(?:src|href)=\"(?:https?:)?//", re.I)
    for html in site.rglob("*.html"):
        found = external.search(html.read_text(encoding="utf-8"))
        assert found is None, f"{html.relative_to(site)}: {found and found[0]}"


# The browser --------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(profile: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--window-size=1280,1400",
            "--virtual-time-budget=8000",  # let the scripts (search, mermaid) run
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


def png_pixels(path: Path) -> tuple[int, int, bytes]:
    """Width, height and the (filtered) pixel rows of a PNG file."""
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n"), "not a PNG"
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    chunks, at = [], 8
    while at < len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        if data[at + 4 : at + 8] == b"IDAT":
            chunks.append(data[at + 8 : at + 8 + size])
        at += 12 + size
    return width, height, zlib.decompress(b"".join(chunks))


def assert_rendered(path: Path) -> None:
    """A real page, not a blank or error screen: big, and many different byte values
    across most of its rows (a blank page's rows filter down to a single value)."""
    assert path.stat().st_size > 30_000, f"{path.name}: {path.stat().st_size} bytes"
    width, height, rows = png_pixels(path)
    assert (width, height) == (1280, 1400)
    stride = len(rows) // height
    busy = sum(len(set(rows[y * stride + 1 : (y + 1) * stride])) > 3 for y in range(height))
    assert busy > height // 3, f"{path.name}: only {busy} of {height} rows have content"


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
def test_home_and_execution_model_render_in_a_browser(site: Path, tmp_path: Path) -> None:
    home, model = tmp_path / "home.png", tmp_path / "execution-model.png"
    runs = [
        chromium(tmp_path / "p1", f"--screenshot={home}", (site / "index.html").as_uri()),
        chromium(
            tmp_path / "p2",
            f"--screenshot={model}",
            (site / "execution-model.html").as_uri(),
        ),
        chromium(tmp_path / "p3", "--dump-dom", (site / "execution-model.html").as_uri()),
    ]
    try:
        dom = runs[2].communicate(timeout=BROWSER_TIMEOUT)[0].decode()
        for run in runs[:2]:
            run.communicate(timeout=BROWSER_TIMEOUT)
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()
                run.wait(5)
    assert_rendered(home)
    assert_rendered(model)
    # Material replaces each <pre class="mermaid"> by the diagram mermaid drew (in a
    # shadow root); the <pre> stays when mermaid did not load or failed
    assert '<pre class="mermaid">' not in dom
    assert '<div class="mermaid">' in dom
    assert "The execution model" in dom
