# ruff: noqa: S310 (urlopen of our own http://127.0.0.1 server only)
"""The app under test: production settings, its own PostgreSQL and Redis, N Daphne workers.

Everything runs on 127.0.0.1 on free ports and is stopped afterwards; the machine's
shared PostgreSQL and Redis are never used.
"""

import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.pgserver import initialised_pg_server, server_binaries_found
from tracker.serve import APPLICATION, worker_command

from .common import ROOT, free_port


def raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A private PostgreSQL server (own initdb, own port), removed afterwards."""
    if not server_binaries_found():
        raise SystemExit("bench: PostgreSQL server binaries not found")
    with initialised_pg_server() as server:
        server.start()
        yield server.url


def production_env(database_url: str, redis_url: str = "", layer: str = "pubsub") -> dict:
    static = Path(tempfile.gettempdir()) / "tracker-bench-static"
    return {
        **os.environ,
        "TRACKER_ENV": "production",
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "k" * 60,
        "ALLOWED_HOSTS": "127.0.0.1",
        # TLS ends at the proxy in production; here the load talks plain HTTP to Daphne.
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CHANNEL_LAYER": layer,
        "STATIC_ROOT": str(static),
        "LOG_LEVEL": "WARNING",
        "TRACKER_PUBLIC_URL": "http://127.0.0.1",
        "TRACKER_ALLOW_CONSOLE_EMAIL": "true",  # nothing is delivered during a bench
        # Every simulated customer connects from this one machine's address.
        "TRACKER_SOCKETS_PER_CLIENT": "1000000",
    }


def _run(env: dict, *args: str) -> str:
    """A Python command of this project in its own process; its standard output."""
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"bench: {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def prepare(
    env: dict, shops: int, orders_per_shop: int, setup: bool = True, prefix: str = "bench"
) -> dict:
    """Migrate, collect static files (unless done), seed shops and orders; the seed."""
    if setup:
        _run(env, "manage.py", "migrate", "--noinput")
        _run(env, "manage.py", "collectstatic", "--noinput")
    out = _run(env, "-m", "bench.seed", str(shops), str(orders_per_shop), prefix)
    return json.loads(out.strip().splitlines()[-1])


@dataclass
class Workers:
    """N Daphne workers accepting on one port, as `python -m tracker.serve` runs them."""

    env: dict
    count: int
    application: str = APPLICATION
    # True: stock `python -m daphne` with the same options, for the stop's comparison.
    stock_daphne: bool = False
    port: int = field(default_factory=free_port)
    processes: list = field(default_factory=list)
    listener: socket.socket | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if self.listener is None:
            self.listener = socket.socket()
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.listener.bind(("127.0.0.1", self.port))
            self.listener.listen(4096)
            os.set_inheritable(self.listener.fileno(), True)
        command = worker_command(self.listener.fileno(), False, False, self.application)
        if self.stock_daphne:
            command[command.index("tracker.worker")] = "daphne"
        self.processes = [
            subprocess.Popen(command, cwd=ROOT, env=self.env, pass_fds=(self.listener.fileno(),))
            for _ in range(self.count)
        ]
        deadline = time.monotonic() + 60
        while True:  # bounded by the deadline
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("bench: Daphne did not come up")
            time.sleep(0.1)
        # Every worker imports lazily: warm each one up before measuring.
        for _ in range(self.count * 8):
            urllib.request.urlopen(self.base + "/healthz", timeout=5).read()

    def stop(self) -> None:
        for p in self.processes:
            p.terminate()
        for p in self.processes:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.processes = []

    def close(self) -> None:
        self.stop()
        if self.listener is not None:
            self.listener.close()

    def rss_kb(self) -> int:
        return sum(rss_kb(p.pid) for p in self.processes)

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(p.pid) for p in self.processes)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
