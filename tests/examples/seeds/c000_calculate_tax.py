# ruff: noqa
# fmt: off
"""Seed 000 (Catzilla, async/sync hybrid system, HTML rendering): Migration From Async-Only Code.
The block uses Query without importing it: the import is added.

Copied verbatim from the seed document; only import lines changed:
  'from catzilla import Catzilla, JSONResponse'
    -> 'from ambi import App as Catzilla, JSONResponse, Query'
"""
from ambi import App as Catzilla, JSONResponse, Query
import asyncio

app = Catzilla()

# Original: Everything forced to be async
@app.post("/calculate-tax")
async def calculate_tax_v1(request, income: float = Query(..., ge=0, description="Annual income")):
    """Forced async version (suboptimal)"""

    def complex_tax_calculation(income):
        # Simulate complex CPU calculations
        tax_rate = 0.25 if income > 50000 else 0.15
        return income * tax_rate

    # This is pure CPU work - doesn't need to be async!
    tax = await asyncio.get_event_loop().run_in_executor(
        None, complex_tax_calculation, income
    )
    return JSONResponse({"tax": tax, "version": "forced_async"})

# Optimized: Use sync for CPU-bound operations
@app.post("/calculate-tax-v2")
def calculate_tax_v2(request, income: float = Query(..., ge=0, description="Annual income")):
    """Optimized sync version"""

    def complex_tax_calculation(income):
        # Simulate complex CPU calculations
        tax_rate = 0.25 if income > 50000 else 0.15
        return income * tax_rate

    # Pure CPU work - sync is simpler and just as fast
    tax = complex_tax_calculation(income)
    return JSONResponse({
        "tax": tax,
        "version": "optimized_sync",
        "performance": "Simpler and just as fast"
    })

if __name__ == "__main__":
    app.listen(port=8000)
