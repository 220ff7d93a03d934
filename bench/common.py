"""Shared helpers for the benchmarks: throwaway servers on free local ports, statistics."""

import os
import platform
import socket
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.redisserver import new_redis_server

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def throwaway_redis() -> Iterator[str]:
    """A private redis-server on a free port, killed afterwards; never the shared one."""
    try:
        server = new_redis_server()
        server.start()
    except RuntimeError as error:
        raise SystemExit(f"bench: {error}") from None
    try:
        yield server.url
    finally:
        server.stop()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(runs: list[float]) -> str:
    """Median of repeated runs, with min-max."""
    return f"{statistics.median(runs):,.1f} ({min(runs):,.1f}–{max(runs):,.1f})"


def machine() -> str:
    return (
        f"{platform.node() or 'host'}: {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )
