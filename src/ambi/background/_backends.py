"""The distributed backends: a taskiq broker and a status store for Redis and for NATS.

Redis: taskiq-redis's `RedisStreamBroker` (a stream and a consumer group; a message is
acknowledged after its task ran), with two changes made by subclassing:
  - it reclaims (XAUTOCLAIM) the messages of dead consumers on every turn of its read loop,
    not only after a read that returned new messages (upstream skips the reclaim while the
    stream is idle, so a task whose worker was killed waited for the next new message);
  - acknowledging also deletes the entry (XACK + XDEL), so the stream holds only the
    messages not yet done, without a MAXLEN that could trim unprocessed ones;
  - a lost connection does not end the worker (upstream's read loop raises, and the
    worker process exits): it reads again when Redis is back, backing off up to 2 s.
Status records are JSON strings under `ambi:<queue>:task:<id>` (expiring after
`result_ttl`); failed tasks are also kept, with their call, in the hash
`ambi:<queue>:failed`, without expiry, for inspection.

NATS: taskiq-nats's pull-based JetStream broker on a work-queue stream (an acknowledged
message is removed), whose durable consumer redelivers a message not acknowledged within
`visibility_timeout` (`ack_wait`). Status records live in the KV bucket
`ambi_<queue>_status` (TTL `result_ttl`), failed tasks in `ambi_<queue>_failed`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

import orjson

from ._status import TaskStatus

logger = logging.getLogger("ambi.tasks")
_FIRST_RETRY = 0.1  # seconds a worker waits before reading again after losing Redis
_MAX_RETRY = 2.0

T = TypeVar("T")


class StatusStore(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def put(self, records: list[TaskStatus]) -> None: ...

    async def get(self, task_id: str) -> TaskStatus | None: ...

    async def keep_failed(self, record: TaskStatus, call: dict[str, Any]) -> None: ...

    async def failed(self) -> list[dict[str, Any]]: ...


def _dump(record: TaskStatus) -> bytes:
    return orjson.dumps(record.to_dict())


class Coalescer(Generic[T]):
    """Gathers what callers `add` during one loop turn and hands it to one `flush` call.

    PERF: under load many tasks write their status or acknowledge their message in the same
    turn; one pipelined round trip serves them all (benchmarks/bench_tasks.py, recorded in
    RESULTS.md). A lone caller waits one loop turn more, nothing else.
    """

    def __init__(self, flush: Callable[[list[T]], Awaitable[None]]) -> None:
        self._flush_items = flush
        self._batch: tuple[list[T], asyncio.Future[None]] | None = None
        self._running: set[asyncio.Task[None]] = set()

    async def add(self, items: list[T]) -> None:
        if self._batch is None:
            loop = asyncio.get_running_loop()
            self._batch = ([], loop.create_future())
            loop.call_soon(self._flush)
        batch, done = self._batch
        batch.extend(items)
        await asyncio.shield(done)

    def _flush(self) -> None:
        if self._batch is None:
            return
        items, done = self._batch
        self._batch = None

        async def flush() -> None:
            try:
                await self._flush_items(items)
            except Exception as exc:  # every waiter sees it
                done.set_exception(exc)
            else:
                done.set_result(None)

        task = asyncio.get_running_loop().create_task(flush())
        self._running.add(task)
        task.add_done_callback(self._running.discard)


# Redis -------------------------------------------------------------------------------------


async def _read_forever(
    read: Callable[[], AsyncGenerator[Any, None]], declare_group: Callable[[], Awaitable[None]]
) -> AsyncGenerator[Any, None]:
    """The messages `read()` yields; a lost connection is waited out, never the end of the
    worker: it reads again, backing off up to 2 s, and declares the consumer group again
    if Redis came back without it."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import ResponseError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    delay = _FIRST_RETRY
    while True:
        try:
            async for message in read():
                delay = _FIRST_RETRY
                yield message
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            logger.warning("Redis unreachable (%r); reading again in %.1f s", exc, delay)
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            logger.warning("the consumer group is gone (Redis restarted?): declaring it")
            await declare_group()
            continue
        await asyncio.sleep(delay)
        delay = min(_MAX_RETRY, delay * 2)


def redis_broker(url: str, queue: str, visibility_timeout: float) -> Any:
    from redis.asyncio import Redis
    from taskiq import AckableMessage
    from taskiq_redis import RedisStreamBroker

    class Broker(RedisStreamBroker):
        _acks: Coalescer[Any] | None = None

        def _ack_generator(self, id: str, queue_name: str) -> Callable[[], Awaitable[None]]:
            if self._acks is None:
                self._acks = Coalescer(self._ack_many)

            async def ack() -> None:
                await self._acks.add([id])  # type: ignore[union-attr]

            return ack

        async def _ack_many(self, ids: list[Any]) -> None:
            async with Redis(connection_pool=self.connection_pool) as redis:
                pipe = redis.pipeline(transaction=True)
                pipe.xack(self.queue_name, self.consumer_group_name, *ids)
                pipe.xdel(self.queue_name, *ids)
                await pipe.execute()

        async def kick_many(self, messages: list[Any]) -> None:
            """Add many messages in one pipelined round trip."""
            async with Redis(connection_pool=self.connection_pool) as redis:
                pipe = redis.pipeline(transaction=False)
                for message in messages:
                    pipe.xadd(self.queue_name, {b"data": message.message})
                await pipe.execute()

        def listen(self) -> AsyncGenerator[Any, None]:
            return _read_forever(self._read, self._declare_consumer_group)

        async def _read(self) -> AsyncGenerator[Any, None]:
            redis: Any
            async with Redis(connection_pool=self.connection_pool) as redis:
                while True:
                    fetched = await redis.xreadgroup(
                        self.consumer_group_name,
                        self.consumer_name,
                        {self.queue_name: ">"},
                        block=self.block,
                        count=self.count,
                    )
                    claimed = await redis.xautoclaim(
                        self.queue_name,
                        self.consumer_group_name,
                        self.consumer_name,
                        min_idle_time=self.idle_timeout,
                        count=self.unacknowledged_batch_size,
                    )
                    messages = [m for _, batch in fetched or () for m in batch]
                    messages.extend(claimed[1])
                    for msg_id, msg in messages:
                        if msg is None:  # deleted while pending
                            continue
                        yield AckableMessage(
                            data=msg[b"data"], ack=self._ack_generator(msg_id, self.queue_name)
                        )

    return Broker(
        url,
        queue_name=f"ambi:{queue}:stream",
        consumer_group_name=f"ambi:{queue}",
        consumer_id="0",  # a new group reads what was queued before it existed
        idle_timeout=int(visibility_timeout * 1000),
        xread_block=5000,
    )


class RedisStatusStore:
    def __init__(self, url: str, queue: str, ttl: float) -> None:
        self.url = url
        self.prefix = f"ambi:{queue}:task:"
        self.failed_key = f"ambi:{queue}:failed"
        self.ttl = max(1, int(ttl))
        self.redis: Any = None
        self._writes: Coalescer[TaskStatus] = Coalescer(self._write)

    async def start(self) -> None:
        from redis.asyncio import Redis

        self.redis = Redis.from_url(self.url)

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
            self.redis = None

    async def put(self, records: list[TaskStatus]) -> None:
        """Write `records` (with the other writes of this loop turn, in one pipeline)."""
        await self._writes.add(records)

    async def _write(self, records: list[TaskStatus]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for record in records:
            pipe.set(self.prefix + record.id, _dump(record), ex=self.ttl)
        await pipe.execute()

    async def get(self, task_id: str) -> TaskStatus | None:
        raw = await self.redis.get(self.prefix + task_id)
        return None if raw is None else TaskStatus.from_dict(orjson.loads(raw))

    async def keep_failed(self, record: TaskStatus, call: dict[str, Any]) -> None:
        await self.redis.hset(
            self.failed_key, record.id, orjson.dumps({**record.to_dict(), **call})
        )

    async def failed(self) -> list[dict[str, Any]]:
        raw = await self.redis.hvals(self.failed_key)
        return sorted((orjson.loads(v) for v in raw), key=lambda r: r["finished_at"] or 0)


# NATS --------------------------------------------------------------------------------------


def nats_broker(url: str, queue: str, visibility_timeout: float) -> Any:
    from nats.js.api import ConsumerConfig, RetentionPolicy, StreamConfig
    from taskiq_nats import PullBasedJetStreamBroker

    return PullBasedJetStreamBroker(
        url,
        subject=f"ambi.{queue}.tasks",
        stream_name=f"ambi_{queue}_tasks",
        durable=f"ambi_{queue}_workers",
        stream_config=StreamConfig(retention=RetentionPolicy.WORK_QUEUE),
        consumer_config=ConsumerConfig(
            durable_name=f"ambi_{queue}_workers", ack_wait=visibility_timeout
        ),
        pull_consume_batch=16,
        pull_consume_timeout=5.0,
    )


class NatsStatusStore:
    def __init__(self, url: str, queue: str, ttl: float) -> None:
        self.url = url
        self.bucket = f"ambi_{queue}_status"
        self.failed_bucket = f"ambi_{queue}_failed"
        self.ttl = ttl
        self.client: Any = None
        self.kv: Any = None
        self.failed_kv: Any = None

    async def start(self) -> None:
        import nats

        self.client = await nats.connect(self.url)
        js = self.client.jetstream()
        self.kv = await js.create_key_value(bucket=self.bucket, ttl=self.ttl)
        self.failed_kv = await js.create_key_value(bucket=self.failed_bucket)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
            self.client = None

    async def put(self, records: list[TaskStatus]) -> None:
        await asyncio.gather(*(self.kv.put(r.id, _dump(r)) for r in records))

    async def get(self, task_id: str) -> TaskStatus | None:
        from nats.js.errors import KeyNotFoundError

        try:
            entry = await self.kv.get(task_id)
        except KeyNotFoundError:
            return None
        if not entry.value:  # a deletion marker
            return None
        return TaskStatus.from_dict(orjson.loads(entry.value))

    async def keep_failed(self, record: TaskStatus, call: dict[str, Any]) -> None:
        await self.failed_kv.put(record.id, orjson.dumps({**record.to_dict(), **call}))

    async def failed(self) -> list[dict[str, Any]]:
        from nats.js.errors import NoKeysError

        keys: list[str] = []
        with contextlib.suppress(NoKeysError):
            keys = await self.failed_kv.keys()
        found = [orjson.loads((await self.failed_kv.get(k)).value) for k in keys]
        return sorted(found, key=lambda r: r["finished_at"] or 0)


def backend_for(url: str) -> str:
    """`redis` or `nats` from a backend URL's scheme; '' when neither."""
    scheme = url.partition("://")[0].lower()
    if scheme in ("redis", "rediss", "unix"):
        return "redis"
    if scheme in ("nats", "tls"):
        return "nats"
    return ""


def make_backend(url: str, queue: str, visibility_timeout: float, ttl: float) -> tuple[Any, Any]:
    """(taskiq broker, status store) for `url`."""
    if backend_for(url) == "redis":
        return redis_broker(url, queue, visibility_timeout), RedisStatusStore(url, queue, ttl)
    return nats_broker(url, queue, visibility_timeout), NatsStatusStore(url, queue, ttl)
