"""One ambi app, run as several hosts behind nginx, everything shared kept in Redis.

Each host runs it with `ambi run examples/cluster/cluster_app.py --host ADDR --workers N`;
one more host runs its tasks with `ambi worker examples/cluster/cluster_app.py`. What the
hosts share, all through the one Redis named by `AMBI_CLUSTER_REDIS`:

- rate limits: `/limited` and `/limited-strict` (10 requests a minute per client, counted
  once across every worker and host; `X-Client` names the client, else its address as
  nginx reports it). When Redis is unreachable `/limited` lets requests through
  (`failure_mode="open"`) and `/limited-strict` answers 503 (`"closed"`);
- the response cache: `GET /items/{id}` computed by one host is served by all;
  `POST /items/{id}/invalidate` on any host clears it for all. Redis down: served uncached;
- sessions: `POST /login` on one host, `GET /me` recognised on every host (server-side
  sessions, the cookie holds a signed id). Redis down: 503 for routes using the session;
- websocket rooms: `/ws/{room}`, a message said on one host reaches the room's clients on
  every host (`ambi.broadcast` over Redis pub/sub). Redis down: messages said meanwhile
  are lost; the rooms carry on when it is back;
- tasks: `POST /jobs` queues `record_job` (taskiq over Redis Streams) and answers 202 only
  once the task is in Redis (`app.tasks.flush()`), so a host dying after answering loses
  nothing; the worker host runs each once (at least once if a worker dies mid-task);
- not shared: `/metrics` (Prometheus) is per host, adding up that host's workers
  (`PROMETHEUS_MULTIPROC_DIR`); nginx or Prometheus scrapes each host.

`GET /health` answers 200 while the host serves (with Redis "up" or "down" in the body: a
host without Redis is degraded, not dead, and taking it out would not help).

Settings (environment): AMBI_CLUSTER_REDIS (redis://127.0.0.1:6379/0), AMBI_CLUSTER_HOST
(this host's name in answers; the machine's name), AMBI_CLUSTER_PREFIX (the Redis key
prefix, `cluster:`), AMBI_CLUSTER_PROXIES (nginx's addresses, comma-separated:
127.0.0.1), SESSION_SECRET (required).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import socket
from typing import Annotated, Any

import orjson
import redis
import redis.asyncio

from ambi import (
    App,
    BaseModel,
    Field,
    JSONResponse,
    Path,
    Request,
    StoreError,
    WebSocket,
    WebSocketDisconnect,
)
from ambi.broadcast import Broadcast, Subscription
from ambi.cache import cache, invalidate
from ambi.ratelimit import RateLimitConfig
from ambi.stores import store_from_url

REDIS = os.environ.get("AMBI_CLUSTER_REDIS", "redis://127.0.0.1:6379/0")
HOST = os.environ.get("AMBI_CLUSTER_HOST") or socket.gethostname()
PREFIX = os.environ.get("AMBI_CLUSTER_PREFIX", "cluster:")
PROXIES = [p for p in os.environ.get("AMBI_CLUSTER_PROXIES", "127.0.0.1").split(",") if p]
LIMIT = 10  # requests per minute per client on the limited routes
QUEUE = re.sub(r"[^A-Za-z0-9_-]", "_", PREFIX.strip(":")) or "cluster"


def _url(**options: object) -> str:
    query = "&".join(f"{k}={v}" for k, v in options.items())
    return f"{REDIS}{'&' if '?' in REDIS else '?'}{query}"


app = App(shutdown_timeout=5)
app.enable_cache(store_from_url(_url(prefix=f"{PREFIX}cache:", timeout=0.5)))
app.enable_sessions(
    secret_key=os.environ["SESSION_SECRET"],
    store=store_from_url(_url(prefix=f"{PREFIX}session:", timeout=0.5)),
)
app.enable_background_tasks(
    workers=8, backend=REDIS, queue_name=QUEUE, visibility_timeout=30, shutdown_timeout=5
)
app.enable_metrics("/metrics")
app.enable_proxy_headers(trusted=PROXIES)  # the client and scheme nginx reports
broadcast = Broadcast(_url(prefix=f"{PREFIX}broadcast:", timeout=1))


def client_key(request: Request) -> str | None:
    """The `X-Client` header, else None: the client's address (behind nginx, the one it
    puts in `X-Forwarded-For`, trusted from `AMBI_CLUSTER_PROXIES` only)."""
    return request.headers.get("x-client")


def per_client(failure_mode: Any) -> RateLimitConfig:
    return RateLimitConfig.sliding_window(
        LIMIT,
        60,
        key=client_key,
        storage=REDIS,
        trusted_proxies=PROXIES,
        failure_mode=failure_mode,
        prefix=f"{PREFIX}rl",
    )


@app.on_event("shutdown")
async def close_broadcast() -> None:
    await broadcast.close()


# Health, and a route for load -------------------------------------------------------------

_health_client: dict[int, redis.asyncio.Redis] = {}


@app.get("/health")
async def health() -> dict[str, Any]:
    client = _health_client.get(id(asyncio.get_running_loop()))
    if client is None:
        client = redis.asyncio.Redis.from_url(REDIS, socket_connect_timeout=0.3)
        _health_client[id(asyncio.get_running_loop())] = client
    try:
        async with asyncio.timeout(0.3):
            await client.ping()
        state = "up"
    except (redis.RedisError, OSError, TimeoutError):
        state = "down"
    return {"host": HOST, "pid": os.getpid(), "redis": state}


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"host": HOST}


# Rate limits ------------------------------------------------------------------------------


@app.get("/limited", rate_limit=per_client("open"))
async def limited() -> dict[str, str]:
    return {"host": HOST}


@app.get("/limited-strict", rate_limit=per_client("closed"))
async def limited_strict() -> dict[str, str]:
    return {"host": HOST}


# Cache ------------------------------------------------------------------------------------


@app.get("/items/{item_id}")
@cache(ttl=60)
async def item(item_id: Annotated[int, Path(ge=0)]) -> dict[str, Any]:
    """An expensive answer: who computed it, and a nonce telling computations apart."""
    return {"id": item_id, "computed_by": HOST, "nonce": secrets.token_hex(8)}


@app.post("/items/{item_id}/invalidate")
async def invalidate_item(item_id: Annotated[int, Path(ge=0)]) -> JSONResponse:
    try:
        removed = await invalidate(key=f"/items/{item_id}")
    except StoreError:
        return JSONResponse({"detail": "the cache store is unreachable"}, status_code=503)
    return JSONResponse({"removed": removed, "by": HOST})


# Sessions ---------------------------------------------------------------------------------


class Login(BaseModel):
    user: str = Field(min_length=1, max_length=64)


@app.post("/login")
def login(request: Request, body: Login) -> dict[str, str]:
    request.session.regenerate()  # a new id at login: no session fixation
    request.session["user"] = body.user
    return {"user": body.user, "by": HOST}


@app.get("/me")
def me(request: Request) -> dict[str, Any]:
    return {"user": request.session.get("user"), "by": HOST}


# Websocket rooms --------------------------------------------------------------------------

RoomName = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,32}$")]


@app.websocket("/ws/{room}")
async def room(websocket: WebSocket, room: RoomName) -> None:
    """Say text; everyone in the room, on any host, gets `{"text", "via"}`. The first
    message, `{"type": "ready"}`, says this client is subscribed."""
    await websocket.accept()
    channel = f"room:{room}"
    try:
        async with broadcast.subscribe(channel) as subscription:
            await websocket.send_json({"type": "ready", "host": HOST})
            forwarder = asyncio.create_task(_forward(subscription, websocket))
            try:
                await _relay(websocket, channel)
            finally:
                forwarder.cancel()
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                    await forwarder
    except StoreError:  # subscribing failed: Redis is unreachable
        await websocket.close(1011, "broadcast unavailable")


async def _forward(subscription: Subscription, websocket: WebSocket) -> None:
    async for message in subscription:
        await websocket.send_text(message.text)


async def _relay(websocket: WebSocket, channel: str) -> None:
    """What the client says goes to the room on every host, until it leaves."""
    with contextlib.suppress(WebSocketDisconnect):
        async for text in websocket.iter_text():
            said = orjson.dumps({"type": "message", "text": text[:500], "via": HOST}).decode()
            try:
                await broadcast.publish(channel, said)
            except StoreError:
                await websocket.send_json({"type": "error", "detail": "not delivered"})


# Tasks ------------------------------------------------------------------------------------

_sync_client: list[redis.Redis] = []


def record_job(token: str, enqueued_by: str) -> str:
    """The task: count this run of `token` (the test checks each ran exactly once)."""
    if not _sync_client:
        _sync_client.append(redis.Redis.from_url(REDIS))
    client = _sync_client[0]
    client.hincrby(f"{PREFIX}runs", token, 1)
    client.hset(f"{PREFIX}ran_on", token, f"{enqueued_by}->{HOST}")
    return token


class Job(BaseModel):
    token: str = Field(min_length=1, max_length=64)


@app.post("/jobs", status_code=202)
async def enqueue(job: Job) -> JSONResponse:
    task_id = app.add_task(record_job, job.token, HOST)
    try:
        await app.tasks.flush(timeout=2)
    except TimeoutError:
        return JSONResponse(
            {"detail": "the task queue is unreachable; the task is sent when it is back"},
            status_code=503,
        )
    return JSONResponse({"id": task_id, "token": job.token, "by": HOST}, status_code=202)
