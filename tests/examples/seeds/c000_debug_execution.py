# ruff: noqa
# fmt: off
"""Seed 000 (Catzilla, async/sync hybrid system, HTML rendering): Debug Async/Sync Execution.

Copied verbatim from the seed document; only import lines changed:
  'from catzilla import Catzilla, JSONResponse'
    -> 'from ambi import App as Catzilla, JSONResponse'
"""
from ambi import App as Catzilla, JSONResponse
import asyncio
import threading

app = Catzilla()

@app.get("/debug-execution")
async def debug_execution(request):
    """Debug information about execution context"""

    return JSONResponse({
        "handler_type": "async",
        "thread_id": threading.get_ident(),
        "event_loop": str(asyncio.get_event_loop()),
        "is_main_thread": threading.current_thread() == threading.main_thread()
    })

@app.get("/debug-execution-sync")
def debug_execution_sync(request):
    """Debug information about sync execution"""

    return JSONResponse({
        "handler_type": "sync",
        "thread_id": threading.get_ident(),
        "is_main_thread": threading.current_thread() == threading.main_thread(),
        "execution_context": "thread_pool"
    })

if __name__ == "__main__":
    app.listen(port=8000)
