"""An app with Prometheus metrics, for the multi-process test (`ambi run --workers 2`).

Each worker writes its counts to `PROMETHEUS_MULTIPROC_DIR` every 0.2 s.
"""

from __future__ import annotations

import os

from ambi import App

app = App()
app.enable_metrics("/metrics", flush_interval=0.2)


@app.get("/hit/{n}")
def hit(n: int) -> dict[str, int]:
    return {"n": n, "pid": os.getpid()}
