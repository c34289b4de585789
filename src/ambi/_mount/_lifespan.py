"""Running the ASGI lifespan protocol of a mounted app alongside the app it is mounted in.

As uvicorn's `lifespan="auto"`: an app that fails or returns before answering
`lifespan.startup` does not speak the protocol (Starlette's StaticFiles, say), and is served
without one; an app that answers `lifespan.startup.failed` stops the startup.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..servers._types import ASGIMessage

logger = logging.getLogger("ambi.mount")

_ENDED: ASGIMessage = {"type": "ended"}

#: How long a mounted app may take to finish after answering `lifespan.shutdown`.
SHUTDOWN_GRACE = 5.0


class LifespanError(RuntimeError):
    """A mounted app reported that its startup or shutdown failed."""


class ASGILifespan:
    """The lifespan of one mounted ASGI app; `state` is the dict its requests share."""

    def __init__(self, app: Any, where: str) -> None:
        self.app = app
        self.where = where
        self.state: dict[str, Any] = {}
        self._task: asyncio.Task[None] | None = None
        self._to_app: asyncio.Queue[ASGIMessage] = asyncio.Queue()
        self._from_app: asyncio.Queue[ASGIMessage] = asyncio.Queue()

    async def _run(self) -> None:
        scope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": self.state,
        }
        try:
            await self.app(scope, self._to_app.get, self._send)
        except Exception:
            logger.debug("the app mounted at %s left its lifespan with an error", self.where)
        finally:
            self._from_app.put_nowait(_ENDED)

    async def _send(self, message: ASGIMessage) -> None:
        if not str(message.get("type", "")).startswith("lifespan."):
            # an app that treats every scope as HTTP: it does not speak the protocol
            raise RuntimeError(f"expected a lifespan message, got {message.get('type')!r}")
        await self._from_app.put(message)

    async def startup(self) -> None:
        self._to_app = asyncio.Queue()
        self._from_app = asyncio.Queue()
        self.state.clear()
        task = asyncio.ensure_future(self._run())
        await self._to_app.put({"type": "lifespan.startup"})
        reply = await self._from_app.get()
        if reply is _ENDED:
            logger.debug("the app mounted at %s does not speak the lifespan protocol", self.where)
            return
        if reply["type"] != "lifespan.startup.complete":
            task.cancel()
            raise LifespanError(
                f"the app mounted at {self.where} failed to start: {reply.get('message', '')}"
            )
        self._task = task

    async def shutdown(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        await self._to_app.put({"type": "lifespan.shutdown"})
        reply = await self._from_app.get()
        _, pending = await asyncio.wait({task}, timeout=SHUTDOWN_GRACE)
        for unfinished in pending:
            unfinished.cancel()
        if reply["type"] != "lifespan.shutdown.complete":
            raise LifespanError(
                f"the app mounted at {self.where} failed to shut down: "
                f"{reply.get('message', 'it ended without answering')}"
            )
