# ruff: noqa
# fmt: off
"""Seed 000 (Catzilla, async/sync hybrid system, HTML rendering): Performance Optimization Tips 3 (handler stats).

Copied verbatim from the seed document; only import lines changed:
  'from catzilla import Catzilla, JSONResponse'
    -> 'from ambi import App as Catzilla, JSONResponse'
"""
from ambi import App as Catzilla, JSONResponse

app = Catzilla()

@app.get("/handler-stats")
def handler_stats(request):
    # Note: get_handler_stats is a conceptual function
    # In real implementation, you'd track this in your app
    stats = {
        "total_handlers": 10,
        "sync_handlers": 6,
        "async_handlers": 4,
        "performance": "Optimal hybrid usage"
    }
    return JSONResponse(stats)

if __name__ == "__main__":
    app.listen(port=8000)
