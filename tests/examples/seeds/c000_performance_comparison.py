# ruff: noqa
# fmt: off
"""Seed 000 (Catzilla, async/sync hybrid system, HTML rendering): Real-World Performance Test.

Copied verbatim from the seed document; only import lines changed:
  'from catzilla import Catzilla, JSONResponse'
    -> 'from ambi import App as Catzilla, JSONResponse'
"""
from ambi import App as Catzilla, JSONResponse
import asyncio
import time

app = Catzilla()

@app.get("/performance-comparison")
async def performance_comparison(request):
    """Compare sync vs async performance for different workloads"""

    results = {}

    # Test 1: I/O-bound comparison
    start = time.time()
    # Simulate what sync would do (sequential)
    sync_simulation_time = 0.1 + 0.1 + 0.1  # 0.3s total

    # What async actually does (concurrent)
    start_async = time.time()
    await asyncio.gather(
        asyncio.sleep(0.1),
        asyncio.sleep(0.1),
        asyncio.sleep(0.1)
    )
    async_actual_time = time.time() - start_async

    results["io_bound"] = {
        "sync_would_take": f"{sync_simulation_time:.3f}s",
        "async_actual": f"{async_actual_time:.3f}s",
        "improvement": f"{((sync_simulation_time - async_actual_time) / sync_simulation_time * 100):.1f}%"
    }

    # Test 2: CPU-bound (both would be similar, but sync is simpler)
    cpu_task_time = 0.05  # Both sync and async would take similar time
    results["cpu_bound"] = {
        "sync_optimal": f"{cpu_task_time:.3f}s",
        "async_overhead": f"{cpu_task_time + 0.01:.3f}s",
        "recommendation": "Use sync for CPU-bound tasks"
    }

    return JSONResponse({
        "framework": "Catzilla",
        "feature": "Async/Sync Hybrid",
        "results": results,
        "conclusion": "Use the right tool for the right job!"
    })

if __name__ == "__main__":
    app.listen(port=8000)
