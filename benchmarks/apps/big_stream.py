"""One route streaming `size` bytes in 64 KiB chunks, as fast as the server takes them
(`bench_slow_readers`).

    python -m benchmarks.apps.big_stream PORT SERVER INTERFACE
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator

from ambi import App, StreamingResponse

app = App()
BLOCK = bytes(range(256)) * 256  # 64 KiB


async def _blob(size: int) -> AsyncIterator[bytes]:
    sent = 0
    while sent < size:
        chunk = BLOCK[: size - sent]
        sent += len(chunk)
        yield chunk


@app.get("/big")
async def big(size: int = 125_000_000) -> StreamingResponse:
    return StreamingResponse(_blob(size), media_type="application/octet-stream")


@app.get("/")
async def root() -> str:
    return "big-stream"


if __name__ == "__main__":
    app.listen(
        port=int(sys.argv[1]), server=sys.argv[2], interface=sys.argv[3], log_level="warning"
    )
