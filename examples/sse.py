"""Server-sent events: a live clock and a progress feed, from an `async def` generator and a
`def` one (iterated in the thread pool). Open http://127.0.0.1:8000/ to watch them, or:

    curl -N http://127.0.0.1:8000/clock
    curl -N http://127.0.0.1:8000/progress?steps=5
    curl -N -H 'Last-Event-ID: 3' http://127.0.0.1:8000/progress?steps=5   # resumes at 4

A client that closes the page stops its stream: the generator is closed where it waits.
"""

import asyncio
import datetime
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from ambi import App, EventSourceResponse, Header, HTMLResponse, Query, ServerSentEvent

app = App()


@app.get("/clock")
async def clock(interval: float = Query(1.0, gt=0, le=60)) -> EventSourceResponse:
    async def ticks() -> AsyncIterator[ServerSentEvent]:
        while True:  # until the client leaves: then the sleep is cancelled
            now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
            yield ServerSentEvent(now, event="tick")
            await asyncio.sleep(interval)

    return EventSourceResponse(ticks(), ping=15)


@app.get("/progress")
def progress(
    steps: int = Query(10, ge=1, le=1000),
    delay: float = Query(0.5, ge=0, le=10),
    last_event_id: str | None = Header(None),
) -> EventSourceResponse:
    """A blocking job reporting as it goes; a reconnecting browser resumes after the last
    step it saw (`Last-Event-ID`)."""
    first = int(last_event_id) + 1 if last_event_id and last_event_id.isdigit() else 1

    def work() -> Iterator[dict[str, Any]]:
        for step in range(first, steps + 1):
            time.sleep(delay)  # the pool's thread blocks, never the loop
            yield {"id": str(step), "event": "progress", "data": f"{step}/{steps}"}
        yield {"event": "done", "data": "finished", "retry": 60_000}

    return EventSourceResponse(work())


@app.get("/")
def page() -> HTMLResponse:
    return HTMLResponse(PAGE)


PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>ambi events</title></head>
<body>
<p>Clock: <output id="clock">…</output></p>
<p>Progress: <output id="progress">…</output></p>
<script>
new EventSource("/clock").addEventListener("tick", (e) => { clock.value = e.data; });
const job = new EventSource("/progress?steps=20&delay=0.3");
job.addEventListener("progress", (e) => { progress.value = e.data; });
job.addEventListener("done", () => { progress.value = "done"; job.close(); });
</script>
</body></html>
"""


if __name__ == "__main__":
    app.listen(port=8000)
