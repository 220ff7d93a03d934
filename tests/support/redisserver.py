"""A throwaway redis-server on a free port, which a fault test may stop and start again.

Never the machine's shared Redis: its own port, no persistence. The benchmarks use it too.
"""

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support.requirements import need


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RedisServer:
    binary: str
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--maxclients", "20000"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while True:  # bounded: it answers or we give up at the deadline
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("the throwaway redis-server did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


def redis_binary() -> str | None:
    return shutil.which("redis-server")


def new_redis_server() -> RedisServer:
    binary = redis_binary()
    if binary is None:
        raise RuntimeError("redis-server not found (apt-get install redis-server)")
    return RedisServer(binary=binary, port=_free_port())


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """Not started; the test starts and stops it. Killed afterwards in any case."""
    need(redis_binary() is not None, "redis-server not found (apt-get install redis-server)")
    server = new_redis_server()
    try:
        yield server
    finally:
        server.stop()
