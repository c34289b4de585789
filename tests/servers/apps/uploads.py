"""Uploads on a real server: a big upload hashed as it is, a size-limited one, a route
that stays busy-free while slow uploaders trickle in, and the process's own memory and
open temporary files.

    python uploads.py PORT [SERVER] [INTERFACE]

`AMBI_TEST_UPLOAD_DIR` is the folder temporary files go to.
"""

from __future__ import annotations

import hashlib
import os
import sys
from typing import Any

from ambi import App, File, UploadFile

UPLOAD_DIR = os.environ["AMBI_TEST_UPLOAD_DIR"]
app = App(upload_dir=UPLOAD_DIR)


def _status(field: str) -> int:
    """A /proc/self/status value in KiB (VmRSS now, VmHWM the peak)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise LookupError(field)


@app.post("/upload")
def upload(file: UploadFile = File(max_size="300MB")) -> dict[str, Any]:
    digest = hashlib.sha256()
    while chunk := file.read(1024 * 1024):
        digest.update(chunk)
    return {"size": file.size, "sha256": digest.hexdigest(), "in_memory": file.in_memory}


@app.post("/limited")
async def limited(file: UploadFile = File(max_size="1MB")) -> dict[str, Any]:
    return {"size": file.size}


@app.get("/ping")
async def ping() -> str:
    return "pong"


@app.get("/memory")
def memory() -> dict[str, int]:
    return {"rss_kib": _status("VmRSS"), "peak_kib": _status("VmHWM")}


@app.get("/open-uploads")
def open_uploads() -> dict[str, Any]:
    """Temporary upload files this process holds open, and the folder's entries."""
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(UPLOAD_DIR):
            held.append(target)
    return {"open": held, "entries": os.listdir(UPLOAD_DIR)}


@app.get("/")
async def root() -> str:
    return "uploads"


if __name__ == "__main__":
    port = int(sys.argv[1])
    server = sys.argv[2] if len(sys.argv) > 2 else "granian"
    interface = sys.argv[3] if len(sys.argv) > 3 else "rsgi"
    app.listen(port=port, server=server, interface=interface, log_level="warning")
