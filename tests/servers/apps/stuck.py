"""Handlers that outlive `shutdown_timeout` (1 s): the stop cuts them (503), the shutdown
hook still runs (it appends to the file `AMBI_TEST_MARKER` names) and the process exits
with a status saying the shutdown was not clean.

    python stuck.py PORT [SERVER] [INTERFACE]
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

from ambi import App

app = App(shutdown_timeout=1.0)


@app.get("/async/stuck")
async def async_stuck() -> dict[str, str]:
    await asyncio.sleep(60)
    return {"kind": "async"}


@app.get("/sync/stuck")
def sync_stuck() -> dict[str, str]:
    time.sleep(8)  # a thread cannot be interrupted: it is left to finish
    return {"kind": "sync"}


@app.get("/")
async def root() -> str:
    return "stuck"


@app.on_event("shutdown")
def write_marker() -> None:
    marker = os.environ.get("AMBI_TEST_MARKER")
    if marker:
        with open(marker, "a", encoding="utf-8") as f:
            f.write(f"shutdown {os.getpid()}\n")


if __name__ == "__main__":
    port = int(sys.argv[1])
    server = sys.argv[2] if len(sys.argv) > 2 else "granian"
    interface = sys.argv[3] if len(sys.argv) > 3 else "rsgi"
    app.listen(port=port, server=server, interface=interface, log_level="warning")
