"""Starts `examples/cluster`: two app hosts, one task-worker host, a dedicated Redis and
nginx, and tears all of it down.

Hosts are network namespaces made here (`ip netns`, a veth pair each, one bridge, a /24 of
10.231.x.0 picked to be free), each serving on its own address, port 8000; nginx and Redis
run in the root namespace on the bridge's address, nginx listening on 127.0.0.1. Without
root or `ip` (or with AMBI_CLUSTER_LOOPBACK=1), the hosts are plain processes on 127.0.0.1
ports (`Cluster.mode` says which).

Everything made is named after this process (`ambc<pid>...`) and every process started
carries `AMBI_CLUSTER_RUNDIR=/tmp/ambi-cluster/<pid>` in its environment, so a later run
removes what a killed run left behind: namespaces, links and processes of dead pids.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from ._cluster_system import (
    IP,
    MARK,
    NGINX,
    REDIS_SERVER,
    RUNS,
    can_make_namespaces,
    free_port,
    ip,
    marked_processes,
)

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "cluster"
APP = "examples/cluster/cluster_app.py"
READY = 30.0  # seconds a host may take to answer /health (2 workers on a busy machine)


@dataclass
class Host:
    """One app (or worker) host: its address, namespace and process."""

    name: str
    address: str
    port: int
    netns: str | None
    log: Path
    argv: list[str]
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.address}:{self.port}"

    def start(self) -> None:
        wrap = [IP, "netns", "exec", self.netns] if self.netns else []
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"\n=== start {self.starts} ===\n".encode())
            self.proc = subprocess.Popen(
                [*wrap, *self.argv],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: a kill takes its workers too
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_healthy(self, timeout: float = READY) -> float:
        """Poll `/health` until it answers 200; the seconds it took."""
        started = time.monotonic()
        deadline = started + timeout
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self.proc is not None and self.proc.poll() is not None:
                    raise AssertionError(f"{self.name} exited:\n{self.output()[-3000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.url}/health").status_code == 200:
                        return time.monotonic() - started
                time.sleep(0.1)
        raise AssertionError(f"{self.name} not healthy in {timeout} s:\n{self.output()[-3000:]}")

    def wait_output(self, text: str, timeout: float = READY) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.proc is None or self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: no {text!r}:\n{self.output()[-3000:]}")
            time.sleep(0.1)

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        """Send `sig` to the host's process group, wait for it; SIGKILL after `timeout`."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                if sig == signal.SIGKILL:
                    os.killpg(proc.pid, sig)
                else:  # the server's main process stops its workers in order
                    proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        with contextlib.suppress(ProcessLookupError):  # workers a dead main left behind
            os.killpg(proc.pid, signal.SIGKILL)
        return proc.returncode


@dataclass
class Cluster:
    """The whole cluster; `start()` then `stop()` (in a `finally`)."""

    run_dir: Path
    workers_per_host: int = 2
    # AMBI_CLUSTER_LOOPBACK=1 takes the fallback even where namespaces could be made
    mode: str = (
        "netns"
        if can_make_namespaces() and not os.environ.get("AMBI_CLUSTER_LOOPBACK")
        else "loopback"
    )
    prefix: str = field(default_factory=lambda: f"ambc{os.getpid()}")
    hosts: dict[str, Host] = field(default_factory=dict)
    gateway: str = "127.0.0.1"  # where nginx and Redis are, as the hosts see them
    nginx_port: int = 0
    redis_port: int = 0
    redis_proc: subprocess.Popen[bytes] | None = None
    nginx_proc: subprocess.Popen[bytes] | None = None
    namespaces: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    fallback_reason: str = ""  # why namespaces could not be made, when they could not

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.nginx_port}"

    @property
    def redis_url(self) -> str:
        return f"redis://{self.gateway}:{self.redis_port}/0"

    def _env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, MARK: str(self.run_dir), "PYTHONUNBUFFERED": "1", **extra}

    # Network ------------------------------------------------------------------------------

    def _free_subnet(self) -> str:
        used = ip("-4", "-o", "addr", "show")
        for step in range(250):
            third = (os.getpid() + step) % 250 + 1
            if f"10.231.{third}." not in used:
                return f"10.231.{third}"
        raise RuntimeError("no free 10.231.x.0/24 for the cluster's bridge")

    def _make_network(self) -> dict[str, str]:
        """The bridge and a namespace per host; each host's address."""
        net = self._free_subnet()
        bridge = f"{self.prefix}br"
        ip("link", "add", bridge, "type", "bridge")
        self.links.append(bridge)
        ip("addr", "add", f"{net}.1/24", "dev", bridge)
        ip("link", "set", bridge, "up")
        self.gateway = f"{net}.1"
        addresses = {}
        for index, name in enumerate(("a", "b", "w")):
            netns, outside, inside = f"{self.prefix}-{name}", f"{self.prefix}{name}0", "eth0"
            ip("netns", "add", netns)
            self.namespaces.append(netns)
            ip("link", "add", outside, "type", "veth", "peer", "name", f"{self.prefix}{name}1")
            self.links.append(outside)
            ip("link", "set", f"{self.prefix}{name}1", "netns", netns, "name", inside)
            ip("link", "set", outside, "master", bridge, "up")
            address = f"{net}.{11 + index}"
            ip("-n", netns, "addr", "add", f"{address}/24", "dev", inside)
            ip("-n", netns, "link", "set", inside, "up")
            ip("-n", netns, "link", "set", "lo", "up")
            addresses[name] = address
        return addresses

    # Redis and nginx ----------------------------------------------------------------------

    def start_redis(self) -> None:
        data = self.run_dir / "redis"
        data.mkdir(exist_ok=True)
        with (self.run_dir / "redis.log").open("ab") as out:
            self.redis_proc = subprocess.Popen(
                [REDIS_SERVER, "--bind", self.gateway, "--port", str(self.redis_port),
                 "--protected-mode", "no", "--save", "", "--appendonly", "yes",
                 "--appendfsync", "always", "--dir", str(data)],
                env=self._env(), stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            with (
                contextlib.suppress(OSError),
                socket.create_connection((self.gateway, self.redis_port), 0.5) as sock,
            ):
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return
            if time.monotonic() > deadline or self.redis_proc.poll() is not None:
                raise AssertionError((self.run_dir / "redis.log").read_text())
            time.sleep(0.05)

    def stop_redis(self) -> None:
        if self.redis_proc is not None and self.redis_proc.poll() is None:
            self.redis_proc.terminate()
            try:
                self.redis_proc.wait(10)
            except subprocess.TimeoutExpired:
                self.redis_proc.kill()
                self.redis_proc.wait(5)

    def nginx_site(self) -> str:
        """examples/cluster/nginx.conf with this cluster's addresses and port."""
        text = (EXAMPLE / "nginx.conf").read_text()
        a, b = self.hosts["a"], self.hosts["b"]
        text = text.replace("10.0.0.11:8000", f"{a.address}:{a.port}")
        text = text.replace("10.0.0.12:8000", f"{b.address}:{b.port}")
        return text.replace("listen 80;", f"listen 127.0.0.1:{self.nginx_port};")

    def start_nginx(self) -> None:
        conf_dir = self.run_dir / "nginx"
        temp = conf_dir / "temp"
        temp.mkdir(parents=True, exist_ok=True)
        temp.chmod(0o777)
        (conf_dir / "ambi.conf").write_text(self.nginx_site())
        paths = " ".join(
            f"{kind}_temp_path {temp}/{kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (conf_dir / "nginx.conf").write_text(
            f"worker_processes 1;\npid {conf_dir}/nginx.pid;\n"
            f"error_log {conf_dir}/error.log warn;\n"
            "events { worker_connections 1024; }\n"
            f"http {{\n  access_log off;\n  {paths}\n  include {conf_dir}/ambi.conf;\n}}\n"
        )
        with (conf_dir / "nginx.out").open("ab") as out:
            self.nginx_proc = subprocess.Popen(
                [NGINX, "-p", str(conf_dir), "-c", str(conf_dir / "nginx.conf"),
                 "-g", "daemon off;"],
                env=self._env(), stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.nginx_port), 0.5),
            ):
                return
            if time.monotonic() > deadline or self.nginx_proc.poll() is not None:
                raise AssertionError((conf_dir / "error.log").read_text(errors="replace"))
            time.sleep(0.05)

    # The whole ---------------------------------------------------------------------------

    def _remove_network(self) -> None:
        for netns in self.namespaces:
            for pid in ip("netns", "pids", netns, check=False).split():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            ip("netns", "del", netns, check=False)
        for link in reversed(self.links):
            ip("link", "del", link, check=False)  # a veth goes with its namespace
        self.namespaces, self.links, self.gateway = [], [], "127.0.0.1"

    def start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if self.mode == "netns":
            try:
                addresses = self._make_network()
            except RuntimeError as exc:  # root without the right (a container, say)
                self._remove_network()
                self.mode, self.fallback_reason = "loopback", str(exc)
        if self.mode == "netns":
            ports = dict.fromkeys(addresses, 8000)
        else:
            addresses = dict.fromkeys(("a", "b", "w"), "127.0.0.1")
            ports = {name: free_port() for name in addresses}
        self.redis_port = free_port()
        self.nginx_port = free_port()
        self.start_redis()
        common = {
            "AMBI_CLUSTER_REDIS": self.redis_url,
            "AMBI_CLUSTER_PREFIX": "cluster:",
            "AMBI_CLUSTER_PROXIES": self.gateway,
            "SESSION_SECRET": "cluster-test-secret-0123456789",
        }
        python = [sys.executable, "-m", "ambi.cli"]
        for name in ("a", "b", "w"):
            metrics = self.run_dir / f"metrics-{name}"
            metrics.mkdir(exist_ok=True)
            if name == "w":
                argv = [*python, "worker", APP]
            else:
                argv = [*python, "run", APP, "--host", addresses[name], "--port",
                        str(ports[name]), "--workers", str(self.workers_per_host)]  # fmt: skip
            self.hosts[name] = Host(
                name=name,
                address=addresses[name],
                port=ports[name],
                netns=f"{self.prefix}-{name}" if self.mode == "netns" else None,
                log=self.run_dir / f"host-{name}.log",
                argv=argv,
                env=self._env(
                    **common, AMBI_CLUSTER_HOST=name, PROMETHEUS_MULTIPROC_DIR=str(metrics)
                ),
            )
        for host in self.hosts.values():
            host.start()
        self.hosts["a"].wait_healthy()
        self.hosts["b"].wait_healthy()
        self.hosts["w"].wait_output("Listening started")
        self.start_nginx()

    def stop(self) -> list[str]:
        """Stop everything, whatever state it is in; what could not be removed."""
        problems: list[str] = []
        for proc in (self.nginx_proc,):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGQUIT)  # nginx: graceful stop
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
        for host in self.hosts.values():
            with contextlib.suppress(Exception):
                host.stop(signal.SIGTERM, timeout=10)
        self.stop_redis()
        for pid in marked_processes(self.run_dir):  # anything else started for this run
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._remove_network()
        if self.mode == "netns":
            left = ip("netns", "list", check=False) + ip("-o", "link", "show", check=False)
            problems += [line for line in left.splitlines() if self.prefix in line]
        problems += [f"process {pid}" for pid in marked_processes(self.run_dir)]
        shutil.rmtree(self.run_dir, ignore_errors=True)
        return problems


def run_dir() -> Path:
    return RUNS / str(os.getpid())
