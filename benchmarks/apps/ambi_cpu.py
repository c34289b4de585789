"""CPU-bound work, the seed's `compute_prime` (Catzilla's docs), on the thread pool and
on the process pool: `GET /prime/thread?n=` and `GET /prime/process?n=`.

python -m benchmarks.apps.ambi_cpu PORT
"""

from __future__ import annotations

import math
import sys
from typing import Any

from ambi import App

app = App(process_workers=2, loop_block_threshold=None)


def compute_prime(n: int = 100) -> dict[str, Any]:
    """The seed's handler body: the primes below `n`, by trial division."""

    def is_prime(num: int) -> bool:
        if num < 2:
            return False
        return all(num % i for i in range(2, int(math.sqrt(num)) + 1))

    primes = [i for i in range(2, n) if is_prime(i)]
    return {"count": len(primes), "largest": primes[-1] if primes else None}


app.add_route("/prime/thread", compute_prime, run="thread")
app.add_route("/prime/process", compute_prime, run="process")

if __name__ == "__main__":
    app.listen(port=int(sys.argv[1]), log_level="warning")
