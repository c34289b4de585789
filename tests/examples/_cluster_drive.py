"""What the cluster tests drive the cluster with: waiting, load (wrk, steady clients, a
job sender), websocket clients, reading Redis and /metrics."""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import orjson
import redis
from websockets.sync.client import ClientConnection, connect

from ._cluster import Cluster, Host

WAIT = 30.0  # the longest a check waits for something that must happen (a busy machine)


def new_token(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:10]}"


def until(check: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    """`check()` until it gives something true; its last error or value in the failure."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (httpx.HTTPError, redis.RedisError, OSError, AssertionError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout} s (last: {last!r})")


def in_rotation(cluster: Cluster, host: Host) -> bool:
    """Wait until nginx sends requests to `host` again."""
    with httpx.Client(timeout=2.0) as client:
        return bool(
            until(
                lambda: any(
                    client.get(f"{cluster.url}/hello").json()["host"] == host.name for _ in range(4)
                ),
                f"nginx routing to {host.name}",
            )
        )


def task_runs(cluster: Cluster) -> dict[str, int]:
    raw = redis.Redis.from_url(cluster.redis_url, socket_timeout=2).hgetall("cluster:runs")
    return {k.decode(): int(v) for k, v in raw.items()}  # type: ignore[union-attr]


def ran_once(cluster: Cluster, tokens: list[str]) -> dict[str, int]:
    """Wait until every token's task ran; how often each ran."""

    def all_ran() -> dict[str, int] | None:
        runs = task_runs(cluster)
        return runs if all(t in runs for t in tokens) else None

    runs = until(all_ran, f"{len(tokens)} tasks run")
    return {t: runs[t] for t in tokens}


def wrk(url: str, seconds: float, connections: int = 4) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", url],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wrk_result(proc: subprocess.Popen[str], stop: bool = False) -> dict[str, float]:
    """wrk's figures: requests, req/s, non-2xx/3xx answers and socket errors."""
    if stop and proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # wrk stops and reports
    out, _ = proc.communicate(timeout=30)
    requests = re.search(r"(\d+) requests in", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    assert requests, out
    assert rate, out
    return {
        "requests": int(requests.group(1)),
        "rps": float(rate.group(1)),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(int(g) for g in errors.groups()) if errors else 0,
    }


class JobSender(threading.Thread):
    """POSTs /jobs through nginx, one after another, until stopped; what each got."""

    def __init__(self, url: str, kind: str) -> None:
        super().__init__(daemon=True)
        self.url, self.kind = url, kind
        self.answers: dict[str, int | str] = {}
        self.stopping = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=10.0) as client:
            while not self.stopping.is_set():
                token = new_token(self.kind)
                try:
                    status: int | str = client.post(f"{self.url}/jobs", json={"token": token})
                    status = status.status_code  # type: ignore[union-attr]
                except httpx.HTTPError as exc:
                    status = repr(exc)
                self.answers[token] = status
                time.sleep(0.01)

    def stop(self) -> dict[str, int | str]:
        self.stopping.set()
        self.join(10)
        return self.answers


class Load:
    """GET `url` from `threads` threads (keep-alive, a pause between requests) until
    stopped: steady traffic that leaves the machine's cores to the hosts restarting."""

    def __init__(self, url: str, threads: int = 2, pause: float = 0.005) -> None:
        self.url, self.pause = url, pause
        self.statuses: dict[int | str, int] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]
        for thread in self.threads:
            thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=5.0) as client:
            while not self.stopping.is_set():
                try:
                    status: int | str = client.get(self.url).status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                with self.lock:
                    self.statuses[status] = self.statuses.get(status, 0) + 1
                time.sleep(self.pause)

    def stop(self) -> dict[int | str, int]:
        self.stopping.set()
        for thread in self.threads:
            thread.join(10)
        return self.statuses


@contextlib.contextmanager
def ws(host: Host | str, room: str) -> Iterator[ClientConnection]:
    """A client in `room` on `host` (or at a ws:// base URL), subscribed when given."""
    base = host.ws_url if isinstance(host, Host) else host
    with connect(f"{base}/ws/{room}", open_timeout=5) as ws:
        ready = orjson.loads(ws.recv(timeout=5))
        assert ready["type"] == "ready", ready
        yield ws


def said(ws: ClientConnection, text: str, timeout: float = 5.0) -> dict[str, Any]:
    """The next room message carrying `text` (others are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        message = orjson.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        if message.get("text") == text:
            return message  # type: ignore[no-any-return]


def metric(text: str, route: str) -> float:
    pattern = rf'ambi_http_requests_total{{method="GET",route="{route}",status_class="2xx"}} (\S+)'
    found = re.search(pattern, text)
    return float(found.group(1)) if found else 0.0
