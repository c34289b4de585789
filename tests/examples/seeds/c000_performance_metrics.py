# ruff: noqa
# fmt: off
"""Seed 000 (Catzilla, async/sync hybrid system, HTML rendering): Performance Monitoring.

Copied verbatim from the seed document; only import lines changed:
  'from catzilla import Catzilla, JSONResponse'
    -> 'from ambi import App as Catzilla, JSONResponse'
"""
from ambi import App as Catzilla, JSONResponse

app = Catzilla()

@app.get("/performance-metrics")
def performance_metrics(request):
    """Monitor performance across handler types"""
    # Note: get_performance_metrics is a conceptual function
    # In real implementation, you'd implement your own metrics collection
    metrics = {
        "total_requests": 1000,
        "avg_response_time": "25ms",
        "sync_handlers_performance": "Excellent for CPU tasks",
        "async_handlers_performance": "Excellent for I/O tasks"
    }

    return JSONResponse({
        "metrics": metrics,
        "recommendations": {
            "sync_handlers": "Good for CPU-bound operations",
            "async_handlers": "Good for I/O-bound operations",
            "hybrid_benefit": "Best of both worlds"
        }
    })

if __name__ == "__main__":
    app.listen(port=8000)
