# ruff: noqa
# fmt: off
"""Seed 000 (Catzilla, async/sync hybrid system, HTML rendering): CPU-Bound Operations (compute_prime).

Copied verbatim from the seed document; only import lines changed:
  'from catzilla import Catzilla, JSONResponse, Query'
    -> 'from ambi import App as Catzilla, JSONResponse, Query'
"""
from ambi import App as Catzilla, JSONResponse, Query
import time
import math

app = Catzilla()

@app.get("/compute-prime")
def compute_prime(request, n: int = Query(100, ge=2, le=10000, description="Number to check for primality")):
    """CPU-intensive prime calculation - perfect for sync"""

    def is_prime(num):
        if num < 2:
            return False
        for i in range(2, int(math.sqrt(num)) + 1):
            if num % i == 0:
                return False
        return True

    start_time = time.time()
    primes = [i for i in range(2, n) if is_prime(i)]
    execution_time = time.time() - start_time

    return JSONResponse({
        "primes": primes,
        "count": len(primes),
        "execution_time": f"{execution_time:.3f}s",
        "handler_type": "sync",
        "execution": "thread_pool"
    })

if __name__ == "__main__":
    app.listen(port=8000)
