"""The ambi benchmark app with one feature turned off or on, for A/B runs in the same
benchmark run (contenders `ambi-pool`, `ambi-nowatch` and `ambi-metrics`, run only when
named).

- `pool_app`: adaptive inline off (`inline_threshold=None`): `def` handlers always run in
  the thread pool, as before issue 21.
- `nowatch_app`: the loop-blocking detector off (`loop_block_threshold=None`).
- `metrics_app`: `app.enable_metrics()` on (issue 12: its cost, in process with
  bench_instructions and served with `benchmarks.run --frameworks ambi,ambi-metrics`).
"""

from __future__ import annotations

from typing import Any

from ambi import App
from benchmarks.apps.ambi_app import app as _full


def _variant(**settings: Any) -> App:
    variant = App(**settings)
    for route in _full.routes:
        variant.add_route(route.path, route.endpoint, route.methods, **route.options)
    return variant


pool_app = _variant(inline_threshold=None)
nowatch_app = _variant(loop_block_threshold=None)


def _with_metrics() -> App:
    variant = _variant()
    variant.enable_metrics(path=None)
    return variant


#: `app.enable_metrics()` on (the cost of the metrics stage: bench_instructions).
metrics_app = _with_metrics()
