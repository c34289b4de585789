"""The distributed backends: a taskiq broker and a status store for Redis and for NATS.

Redis: taskiq-redis's `RedisStreamBroker` (a stream and a consumer group; a message is
acknowledged after its task ran), with three changes made by subclassing:
  - it reclaims (XAUTOCLAIM) the messages of dead consumers on every turn of its read loop,
    not only after a read that returned new messages (upstream skips the reclaim while the
    stream is idle, so a task whose worker was killed waited for the next new message);
  - acknowledging also deletes the entry (XACK + XDEL), so the stream holds only the
    messages not yet done, without a MAXLEN that could trim unprocessed ones;
  - the acknowledgement goes through the status store, in the same MULTI/EXEC as the
    task's final status (`RedisStatusStore.finish`): acknowledged only if recorded;
  - a lost connection does not end the worker (upstream's read loop raises, and the
    worker process exits): it reads again when Redis is back, backing off up to 2 s, and
    declares the consumer group again if Redis came back without it.
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

T = TypeVar("T")

logger = logging.getLogger("ambi.tasks")


class StatusStore(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def put(self, records: list[TaskStatus]) -> None: ...

    async def get(self, task_id: str) -> TaskStatus | None: ...

    async def keep_failed(self, record: TaskStatus, call: dict[str, Any]) -> None: ...

    async def failed(self) -> list[dict[str, Any]]: ...

    async def finish(self, records: list[TaskStatus], ack: Callable[[], Awaitable[None]]) -> None:
        """Write `records`, then acknowledge the message (`ack`) only if they are written."""


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


#: How long a worker's stream read waits for new messages (ms): well under the socket
#: timeout below, so that an idle worker's read always comes back in time. (The read
#: waited 5000 ms with redis-py 8's default socket timeout of 5 s: an idle worker's read
#: timed out, and the error ended the worker.)
XREAD_BLOCK_MS = 2000
SOCKET_TIMEOUT = 10.0
_FIRST_RETRY = 0.1  # seconds a worker waits before reading again after losing Redis
_MAX_RETRY = 2.0


def redis_broker(url: str, queue: str, visibility_timeout: float) -> Any:
    from redis.asyncio import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import ResponseError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from taskiq import AckableMessage
    from taskiq_redis import RedisStreamBroker

    class Broker(RedisStreamBroker):
        #: where acknowledgements go, with the status writes of the same loop turn (one
        #: MULTI/EXEC: a message is acknowledged only with its status written)
        status_store: RedisStatusStore | None = None

        def _ack_generator(self, id: str, queue_name: str) -> Callable[[], Awaitable[None]]:
            store = self.status_store
            if store is None:  # pragma: no cover - make_backend always sets it
                raise RuntimeError("the broker has no status store to acknowledge through")

            async def ack() -> None:
                await store.ack(self.queue_name, self.consumer_group_name, id)

            return ack

        async def _read(self, redis: Any) -> tuple[Any, Any]:
            """New messages (waiting up to `block` ms), then those of dead consumers."""
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
            return fetched, claimed

        async def listen(self) -> AsyncGenerator[Any, None]:
            redis: Any
            delay = _FIRST_RETRY
            async with Redis(connection_pool=self.connection_pool) as redis:
                while True:
                    try:
                        fetched, claimed = await self._read(redis)
                    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                        # Redis restarting, a network blip: keep the worker, read again
                        logger.warning(
                            "Redis unreachable (%r); reading again in %.1f s", exc, delay
                        )
                        await asyncio.sleep(delay)
                        delay = min(_MAX_RETRY, delay * 2)
                        continue
                    except ResponseError as exc:
                        if "NOGROUP" not in str(exc):
                            raise
                        logger.warning(
                            "the consumer group is gone (Redis restarted?): declaring it"
                        )
                        await self._declare_consumer_group()
                        continue
                    delay = _FIRST_RETRY
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
        xread_block=XREAD_BLOCK_MS,
        socket_timeout=SOCKET_TIMEOUT,
    )


#: one write of the Redis store: a status record, or an acknowledgement (stream, group, id)
_Write = TaskStatus | tuple[str, str, Any]


class RedisStatusStore:
    def __init__(self, url: str, queue: str, ttl: float) -> None:
        self.url = url
        self.prefix = f"ambi:{queue}:task:"
        self.failed_key = f"ambi:{queue}:failed"
        self.ttl = max(1, int(ttl))
        self.redis: Any = None
        self._writes: Coalescer[_Write] = Coalescer(self._write)

    async def start(self) -> None:
        from redis.asyncio import Redis

        self.redis = Redis.from_url(self.url)

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
            self.redis = None

    async def put(self, records: list[TaskStatus]) -> None:
        """Write `records` (with the other writes of this loop turn, in one pipeline)."""
        await self._writes.add(list(records))

    async def ack(self, stream: str, group: str, message_id: Any) -> None:
        """Acknowledge (and delete) a stream message, with this turn's status writes."""
        await self._writes.add([(stream, group, message_id)])

    async def finish(self, records: list[TaskStatus], ack: Callable[[], Awaitable[None]]) -> None:
        # PERF: the final status and the acknowledgement go in one MULTI/EXEC (with the
        # other tasks' of this loop turn): one round trip, and all or nothing
        # (bench_tasks.py, RESULTS.md). `ack` reaches `self.ack` (the broker's
        # `status_store`) and joins the same batch.
        await asyncio.gather(self._writes.add(list(records)), ack())

    async def send(self, records: list[TaskStatus], messages: list[bytes], stream: str) -> None:
        """Write `queued` records and add the messages to the stream: one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for record in records:
            pipe.set(self.prefix + record.id, _dump(record), ex=self.ttl)
        for message in messages:
            pipe.xadd(stream, {b"data": message})
        await pipe.execute()

    async def _write(self, writes: list[_Write]) -> None:
        acks: dict[tuple[str, str], list[Any]] = {}
        pipe = self.redis.pipeline(transaction=True)
        for write in writes:
            if isinstance(write, TaskStatus):
                pipe.set(self.prefix + write.id, _dump(write), ex=self.ttl)
            else:
                acks.setdefault(write[:2], []).append(write[2])
        for (stream, group), ids in acks.items():
            pipe.xack(stream, group, *ids)
            pipe.xdel(stream, *ids)
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
    from taskiq import AckableMessage
    from taskiq_nats import PullBasedJetStreamBroker

    class Broker(PullBasedJetStreamBroker):
        async def listen(self) -> AsyncGenerator[Any, None]:
            """taskiq-nats's loop, also surviving the plain `asyncio.TimeoutError` that
            nats-py's `fetch` raises when an idle wait runs out (upstream catches only
            nats' own `TimeoutError`: an idle worker ended after `pull_consume_timeout`)."""
            while True:
                try:
                    messages = await self.consumer.fetch(
                        batch=self.pull_consume_batch, timeout=self.pull_consume_timeout
                    )
                except TimeoutError:  # nats' TimeoutError subclasses it too
                    continue
                for message in messages:
                    yield AckableMessage(data=message.data, ack=message.ack)

    return Broker(
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

    async def finish(self, records: list[TaskStatus], ack: Callable[[], Awaitable[None]]) -> None:
        await self.put(records)
        await ack()

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
        broker, store = (
            redis_broker(url, queue, visibility_timeout),
            RedisStatusStore(url, queue, ttl),
        )
        broker.status_store = store
        return broker, store
    return nats_broker(url, queue, visibility_timeout), NatsStatusStore(url, queue, ttl)
