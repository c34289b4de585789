"""An app whose tasks go to a distributed backend, for worker subprocesses and enqueuers.

Configured from the environment: AMBI_TEST_BACKEND (a redis:// or nats:// URL) and
AMBI_TEST_QUEUE (a queue name unique to the test). Its tasks record each run in Redis
(`SADD ambi-test:<queue>:ran <token>`), which tests read to see that they really ran, and
which worker process ran them (`running` while they run, `by` once done: token -> pid).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

import redis
import redis.asyncio

from ambi import App

REDIS_URL = "redis://127.0.0.1:6379/0"
QUEUE = os.environ.get("AMBI_TEST_QUEUE", "ambi-test")
RAN = f"ambi-test:{QUEUE}:ran"

app = App()
app.enable_background_tasks(
    workers=4,
    backend=os.environ.get("AMBI_TEST_BACKEND", REDIS_URL),
    queue_name=QUEUE,
    visibility_timeout=3,
    max_backoff=0.2,
    backoff=0.05,
    shutdown_timeout=5,
)


RUNNING = f"ambi-test:{QUEUE}:running"  # token -> pid of the worker running it now
BY = f"ambi-test:{QUEUE}:by"  # token -> pid of the worker that finished it last


def record(token: str, pause: float = 0.0) -> str:
    client = redis.Redis.from_url(REDIS_URL)
    if pause:
        client.hset(RUNNING, token, os.getpid())
        time.sleep(pause)
    pipe = client.pipeline()
    pipe.sadd(RAN, token).hset(BY, token, os.getpid()).hdel(RUNNING, token)
    pipe.execute()
    return token


async def record_async(token: str, pause: float = 0.0) -> str:
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    if pause:
        await client.hset(RUNNING, token, os.getpid())
        await asyncio.sleep(pause)
    pipe = client.pipeline()
    pipe.sadd(RAN, token).hset(BY, token, os.getpid()).hdel(RUNNING, token)
    await pipe.execute()
    await client.aclose()
    return token


def count_run(token: str) -> int:
    """Count this token's runs (`ambi-test:<queue>:runs:<token>`)."""
    return int(redis.Redis.from_url(REDIS_URL).incr(f"ambi-test:{QUEUE}:runs:{token}"))  # type: ignore[arg-type]


def fail_until(token: str, attempts: int) -> int:
    """Fail until this token has been tried `attempts` times."""
    tries = redis.Redis.from_url(REDIS_URL).incr(f"ambi-test:{QUEUE}:tries:{token}")
    if int(tries) < attempts:  # type: ignore[arg-type]
        raise RuntimeError(f"try {tries}")
    return int(tries)  # type: ignore[arg-type]


async def enqueue(count: int, prefix: str) -> None:
    """Start the app, queue `count` tasks (sync and async in turn), print their ids."""
    await app.startup()
    ids = [
        app.add_task(record if n % 2 else record_async, f"{prefix}-{n}", 0.02) for n in range(count)
    ]
    await app.shutdown()  # sends everything pending first
    sys.stdout.write("\n".join(ids) + "\n")


if __name__ == "__main__":
    sys.exit("import this module; run `python -m tests.background.enqueue`")
