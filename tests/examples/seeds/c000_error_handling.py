# ruff: noqa
# fmt: off
"""Seed 000 (Catzilla, async/sync hybrid system, HTML rendering): Error Handling Across Contexts.
The block uses asyncio without importing it: the import is added.

Copied verbatim from the seed document; only import lines changed:
  'from catzilla import Catzilla, JSONResponse, Query'
    -> 'import asyncio\nfrom ambi import App as Catzilla, JSONResponse, Query'
"""
import asyncio
from ambi import App as Catzilla, JSONResponse, Query

app = Catzilla()

@app.get("/sync-error-demo")
def sync_error_demo(request, should_fail: bool = Query(False, description="Whether to trigger an error")):
    """Sync error handling"""
    if should_fail:
        return JSONResponse({"error": "Sync error occurred"}, status_code=400)
    return JSONResponse({"message": "Sync success"})

@app.get("/async-error-demo")
async def async_error_demo(request, should_fail: bool = Query(False, description="Whether to trigger an error")):
    """Async error handling"""
    await asyncio.sleep(0.1)
    if should_fail:
        return JSONResponse({"error": "Async error occurred"}, status_code=400)
    return JSONResponse({"message": "Async success"})

if __name__ == "__main__":
    app.listen(port=8000)
