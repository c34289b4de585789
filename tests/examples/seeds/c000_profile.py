# ruff: noqa
# fmt: off
"""Seed 000 (Catzilla, async/sync hybrid system, HTML rendering): Performance Optimization Tips 1 (profile).

Copied verbatim from the seed document; only import lines changed:
  'from catzilla import Catzilla, JSONResponse'
    -> 'from ambi import App as Catzilla, JSONResponse'
"""
from ambi import App as Catzilla, JSONResponse
import time

app = Catzilla()

@app.get("/profile")
def profile_endpoint(request):
    start_time = time.time()
    # Your logic here
    time.sleep(0.1)  # Simulate some work
    end_time = time.time()

    return JSONResponse({
        "execution_time": f"{(end_time - start_time) * 1000:.2f}ms"
    })

if __name__ == "__main__":
    app.listen(port=8000)
