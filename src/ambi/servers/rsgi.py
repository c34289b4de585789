"""The RSGI adapter (Granian's native interface): one call per response where possible."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from time import monotonic
from typing import TYPE_CHECKING

from ..exceptions import ClientDisconnected, HTTPException, IncompleteBody
from ..http import Request, Response
from ..http._host import KNOWN_HOSTS, request_host_error
from ._deadlines import body_deadlines
from ._send_rsgi import send_rsgi
from ._shutdown import ADAPTER_CODES, shutting_down, was_cut
from ._types import RSGIProtocol, RSGIScope

if TYPE_CHECKING:
    from ..app import App

logger = logging.getLogger("ambi.server")


def _declared_length(scope: RSGIScope) -> int | None:
    length = scope.headers.get("content-length")
    return int(length) if isinstance(length, str) and length.isdigit() else None


# Granian's RSGI body iterator does not report a broken body (checked against Granian
# 2.8.9; the source quoted is src/rsgi/io.rs, `RSGIHTTPProtocol::__anext__`):
#
#     Some(chunk) => {
#         let chunk = chunk.map_or(body::Bytes::new(), |buf| buf.into_data().unwrap_or_default());
#         FutureResultToPy::Bytes(chunk)
#     }
#     _ => { _ = guard.take(); FutureResultToPy::Bytes(body::Bytes::new()) }
#
# A frame that is an error (the client closed mid-body, a chunk size `zz` or one that
# overflows, more data than a chunk's size) becomes an empty chunk b'', and the stream is
# kept: hyper's stream gives None after its error, which is the b'' of a normal end, and
# only the call after that raises StopAsyncIteration. So a normal end is ..., b'' (stop),
# and a broken body ..., b'', b'' (stop). A trailers frame (a chunked request with
# trailers) also becomes b'': such a request looks exactly like a broken one. `await
# proto()` (`body.collect()`) raises RSGIProtocolClosed on the same input, which is what
# `read_exact` uses; it cannot serve the chunks of a body as they arrive, nor stop a
# chunked body at the size limit, so the iterator stays, with this reading of it:
#
# - HTTP/1: two empty chunks in a row at the end mean a broken body: IncompleteBody (400;
#   the client that left does not see it). Chunked requests with trailers are refused
#   with it too (request trailers are rare; the ASGI paths accept them).
# - HTTP/2: an empty DATA frame with END_STREAM is legal and gives the same two empty
#   chunks, so they are taken as the end there. A stream the client resets mid-body
#   (RST_STREAM CANCEL or INTERNAL_ERROR, or the connection closed; no Content-Length)
#   then looks complete too (seen on Granian 2.8.9 with h2c; in a bare RSGI app the same
#   resets left `__anext__` waiting instead, which the body timeout ends). Nothing tells
#   them apart here, so `listen()` serves HTTP/1.1 only on RSGI (servers/_runner.py);
#   Granian's ASGI interface reports the reset as `http.disconnect`.
# - With Content-Length, a body shorter than announced is ClientDisconnected.
#
# Upstream fix (suggested to Granian): in `__anext__`, map `Some(Err(_))` to a raised
# error (RSGIProtocolClosed, as `__call__` does) instead of b'', and skip non-data frames
# (trailers) instead of turning them into b''.


class _RSGIBody:
    """The request body, from Granian's protocol object (see the note above)."""

    __slots__ = ("_app", "_proto", "_scope")

    def __init__(self, app: App, scope: RSGIScope, proto: RSGIProtocol) -> None:
        self._app = app
        self._scope = scope
        self._proto = proto

    async def chunks(self) -> AsyncIterator[bytes]:
        expected = _declared_length(self._scope)
        clock = body_deadlines(self._app)
        frames = self._proto.__aiter__()
        received = empty = 0
        while empty < 2:  # two empty chunks: the end (h2) or a broken body (HTTP/1)
            try:
                if clock is None:
                    chunk = await frames.__anext__()
                else:
                    chunk = await clock.read(frames.__anext__())
            except StopAsyncIteration:
                break
            if chunk:
                empty = 0
                received += len(chunk)
                yield chunk
            else:
                empty += 1
        if expected is not None:
            if received < expected:
                raise ClientDisconnected
        elif empty > 1 and not self._scope.http_version.startswith("2"):
            raise IncompleteBody

    async def read_exact(self, length: int) -> bytes:
        # Granian reads exactly Content-Length bytes here (`body.collect()`), and raises
        # when the client goes away first. With a body timeout, a body up to `_ONE_CALL`
        # is read with one call all the same, within the timeout per `_BLOCK` begun; a
        # bigger one is read in chunks, so that the timeout bounds the idle time between
        # chunks and not the whole upload.
        clock = body_deadlines(self._app)
        if clock is not None and length > _ONE_CALL:
            body = b"".join([chunk async for chunk in self.chunks()])
        elif clock is None:
            try:
                body = await self._proto()
            except RuntimeError as exc:  # RSGIProtocolClosed / RSGIProtocolError
                raise ClientDisconnected from exc
        else:
            # PERF: the watch inline, no wrapper coroutine (POST /orders in
            # benchmarks/bench_instructions.py; RESULTS.md, issue 8)
            task = asyncio.current_task()
            waiting = clock.waiting
            allowed = clock.timeout if length <= _BLOCK else clock.timeout * -(-length // _BLOCK)
            waiting[task] = monotonic() + allowed  # type: ignore[index]
            clock.wake()
            try:
                body = await self._proto()
            except RuntimeError as exc:
                raise ClientDisconnected from exc
            except asyncio.CancelledError:
                clock.timed_out(task, allowed)  # type: ignore[arg-type]
                raise
            finally:
                waiting.pop(task, None)  # type: ignore[arg-type]
        if len(body) < length:
            raise ClientDisconnected
        return body


#: Under a body timeout, a read with one call may take the timeout per this many bytes
#: begun (a few TCP segments: they come at once, so for a body this small the timeout on
#: the whole read is the idle time).
_BLOCK = 64 * 1024
#: The largest Content-Length read with one call under a body timeout (so within 4x the
#: timeout: a client that stalls is dropped after 2 minutes at the default 30 s, not 30 s).
#: PERF: one call is one hand-off from Granian's threads to the loop, where its iterator
#: costs one per chunk (Granian gives a 100 KB body in 4): 267-272 -> 216-223 us of server
#: CPU per 100 KB upload (benchmarks/bench_uploads.py; RESULTS.md, "uploads: where a 100
#: KB upload's server CPU went").
_ONE_CALL = 4 * _BLOCK


async def serve_http(
    app: App,
    scope: RSGIScope,
    proto: RSGIProtocol,
    dispatch: Callable[[Request], Awaitable[Response]] | None = None,
) -> None:
    """Serve one request; `dispatch` replaces `app.dispatch` (the app's ASGI middleware,
    bridged)."""
    raw_headers = scope.headers.items()
    request = Request(
        app,
        scope.method,
        scope.path,
        scope.query_string,
        raw_headers,
        client=scope.client,  # "host:port", parsed by `request.client` on first use
        server=scope.server,
        scheme=scope.scheme,
        http_version=scope.http_version,
        source=_RSGIBody(app, scope, proto),
    )
    response = None
    try:
        index = request._header_dict
        # PERF: a Host seen valid before, the header named once, is answered here without
        # a call (bench_instructions "GET /json"); `request_host_error` judges the rest.
        if index is not None and index.get("host") in KNOWN_HOSTS:
            bad_host = None
        else:
            bad_host = request_host_error(raw_headers, index)
        if bad_host is not None:
            response = await app._error_response(request, HTTPException(400, bad_host))
        else:
            try:
                response = await (dispatch or app.dispatch)(request)
            except ClientDisconnected:
                # The body broke off (Content-Length not reached): the client left.
                # Answered all the same (Granian drops it for a client that left), with
                # nothing logged but a debug line.
                logger.debug("%s %s: the body did not arrive whole", scope.method, scope.path)
                response = await app._error_response(request, IncompleteBody())
        sending = send_rsgi(response, proto, app.engine, request.method == "HEAD", scope)
        if sending is not None:  # PERF: a body in memory goes out in one call, no coroutine
            await sending  # (bench_instructions "GET /json")
    except ClientDisconnected:
        return  # the client left while a stream was being sent
    except asyncio.CancelledError:
        if not was_cut(app, request):
            raise
        if response is None:  # nothing sent yet (else Granian ends the connection)
            send_rsgi(shutting_down(), proto, app.engine, request.method == "HEAD")
    finally:
        pending = request.finish()
        if pending is not None:
            await pending


ADAPTER_CODES.add(serve_http.__code__)  # a request in flight, for the shutdown's cut


def init(app: App, loop: asyncio.AbstractEventLoop) -> None:
    """Granian calls this in each worker before serving: run the app's startup there.

    Only a server's worker calls it, so the app is served here however Granian was
    started (`granian --interface rsgi module:app` as well as `listen()`): the objects
    alive after startup are frozen out of the collector's scans unless `app.freeze_gc`
    says otherwise. Not frozen, they made every full collection a pause of 15-30 ms on
    POST /orders, its p99 (RESULTS.md, issue 15).
    """
    app._being_served()
    try:
        loop.run_until_complete(app.startup())
    except BaseException:
        logger.exception("startup failed; this worker will not serve")
        sys.exit(3)


def close(app: App, loop: asyncio.AbstractEventLoop) -> None:
    """Granian calls this in each worker after it stopped serving."""
    try:
        loop.run_until_complete(app.shutdown())
    except BaseException:
        logger.exception("shutdown failed")
