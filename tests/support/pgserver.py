"""A throwaway PostgreSQL server on a free port, which a fault test may stop and start.

Never the machine's shared server: its own data directory, its own port.
"""

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.requirements import need
from tests.support.servers import watch_for


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _as_postgres(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@dataclass
class PgServer:
    datadir: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def start(self, timeout: float = 30) -> None:
        self.process = subprocess.Popen(
            _as_postgres(
                [
                    _bin("postgres"),
                    *("-D", str(self.datadir), "-p", str(self.port), "-k", str(self.datadir)),
                    *("-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"),
                ]
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        ready = watch_for(self.process.stderr, "ready to accept connections")
        assert ready.wait(timeout), "the throwaway PostgreSQL did not start"

    def stop(self) -> None:
        if self.process is not None:
            # Fast shutdown, as `pg_ctl stop` and a restart do: clients are cut off
            # (SIGTERM would be a smart shutdown, waiting for every client to leave).
            # runuser passes on SIGTERM only, so signal the postmaster itself.
            pid_file = self.datadir / "postmaster.pid"
            if pid_file.exists():  # gone already if the server died on its own
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)
            self.process.wait(timeout=30)
            self.process = None


def server_binaries_found() -> bool:
    return _bin("initdb") is not None and _bin("postgres") is not None


@contextmanager
def initialised_pg_server() -> Iterator[PgServer]:
    """Initialised (not started) in its own directory under /tmp, removed afterwards.

    Not pytest's tmp_path: that is private to root, and PostgreSQL runs as postgres.
    """
    root = Path(tempfile.mkdtemp(prefix="tracker-pg-"))
    datadir = root / "pgdata"
    datadir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(datadir, "postgres", "postgres")
    server = PgServer(datadir=datadir, port=0)
    try:
        subprocess.run(
            _as_postgres(
                [_bin("initdb"), "-D", str(datadir), "-A", "trust", "-U", "postgres", "-E", "UTF8"]
            ),
            capture_output=True,
            check=True,
            timeout=120,
        )
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            server.port = s.getsockname()[1]
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_server() -> Iterator[PgServer]:
    need(server_binaries_found(), "PostgreSQL server binaries not found")
    with initialised_pg_server() as server:
        yield server
