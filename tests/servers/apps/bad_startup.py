"""An app whose startup hook fails: the server must stop, show why, and serve nothing.

python bad_startup.py PORT [SERVER] [INTERFACE]
"""

from __future__ import annotations

import sys
from typing import Any

from ambi import App

app = App()


@app.on_event("startup")
async def connect() -> None:
    raise ConnectionRefusedError("database unreachable at db.invalid:5432 (startup-marker)")


@app.get("/")
def index() -> Any:
    return {"served": True}


if __name__ == "__main__":
    port = int(sys.argv[1])
    server = sys.argv[2] if len(sys.argv) > 2 else "granian"
    interface = sys.argv[3] if len(sys.argv) > 3 else "rsgi"
    app.listen(port=port, server=server, interface=interface, log_level="warning")
