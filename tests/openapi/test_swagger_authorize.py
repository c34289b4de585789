"""Swagger UI's Authorize button works with `OAuth2PasswordBearer` (examples/auth.py on a
real server, Granian over RSGI, 127.0.0.1): in headless Chromium, a page of the same
origin drives `/docs` as a person would (swagger_authorize.html): Authorize, user name
and password, every scope, Authorize (Swagger UI posts the form to the token route),
then GET /users/me/ with Try it out / Execute, which must send the bearer token and get
the user back. Skipped only when `/usr/bin/chromium` is absent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .test_live_server import CHROMIUM, ROOT, _free_port, _render, _wait_until_serving

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium"),
]

PAGE = Path(__file__).with_name("swagger_authorize.html")

SERVE = """
import sys
from pathlib import Path
from ambi import HTMLResponse
from tests.examples._load import load_example

app = load_example("auth").app
page = Path(sys.argv[2]).read_text()

@app.get("/authorize-check", include_in_schema=False)
def authorize_check():
    return HTMLResponse(page)

app.listen(host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(port), str(PAGE)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_until_serving(port, process)
        yield port
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_the_authorize_button_gets_a_token_that_try_it_out_sends(server: int) -> None:
    dom = _render(f"http://127.0.0.1:{server}/authorize-check")
    log = dom.split('<pre id="log">', 1)[1].split("</pre>", 1)[0]
    lines = dict(line.split(": ", 1) for line in log.splitlines() if ": " in line)
    assert "error" not in lines, log
    assert log.splitlines()[0] == "authorized", log
    assert lines["status"] == "200", log
    assert "-H 'Authorization: Bearer ey" in lines["curl"], log
    assert '"username": "johndoe"' in lines["body"], log
    assert log.rstrip().endswith("done"), log
