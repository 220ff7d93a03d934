"""A worker told to stop (SIGTERM: a deploy, a restart) ends quickly and loses nothing:
every page is told to reconnect, and a request already in flight is answered."""

import json
import signal
import threading
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

import psycopg
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.support.pgserver import PgServer, pg_server  # noqa: F401 (fixture)
from tests.support.servers import free_port, local_env, manage, migrate_and_seed_demo, start_daphne
from tracker.closecodes import CLOSE_SERVICE_RESTART
from tracker.serve import STOP_WAIT_SECONDS

# The worker must be gone before tracker.serve would kill it.
EXIT_BOUND = STOP_WAIT_SECONDS


def test_on_sigterm_every_socket_hears_service_restart_and_the_worker_exits(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = local_env(f"sqlite:///{tmp_path / 'db.sqlite3'}", port)
    migrate_and_seed_demo(env)
    tokens = [
        manage(env, "create_order", "--shop", "demo", "--number", f"S-{i}", "--customer", "Ann")
        .strip()
        .splitlines()[-1]  # the tracking link
        .rstrip("/")
        .rsplit("/", 1)[1]
        for i in range(3)
    ]
    log: list[str] = []
    worker = start_daphne(env, port, log=log)
    try:
        with ExitStack() as stack:
            origin = f"http://127.0.0.1:{port}"
            sockets = [
                stack.enter_context(
                    connect(f"ws://127.0.0.1:{port}/ws/t/{token}/?lang=en", origin=origin)
                )
                for token in tokens
            ]
            for ws in sockets:
                assert 'data-version="' in ws.recv(timeout=30)  # the snapshot: it is live
            worker.send_signal(signal.SIGTERM)
            codes = []
            for ws in sockets:
                with pytest.raises(ConnectionClosed) as closed:
                    ws.recv(timeout=EXIT_BOUND)
                codes.append(closed.value.rcvd.code if closed.value.rcvd else None)
            # A close frame the page reconnects on (not a dropped connection, 1006).
            assert codes == [CLOSE_SERVICE_RESTART] * len(sockets)
            assert worker.wait(timeout=EXIT_BOUND) == 0
            assert not [line for line in log if "Traceback" in line or "ERROR" in line]
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def test_a_request_in_flight_when_the_worker_is_told_to_stop_is_answered_and_kept(
    pg_server: PgServer,  # noqa: F811 (the fixture)
) -> None:
    pg = pg_server
    pg.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = local_env(pg.url, port)
    migrate_and_seed_demo(env)
    key = manage(env, "create_api_key", "--shop", "demo", "--name", "stop").strip()
    manage(env, "create_order", "--shop", "demo", "--number", "R-1", "--customer", "Ann")
    worker = start_daphne(env, port)
    answer: dict = {}

    def advance() -> None:
        request = urllib.request.Request(
            f"{base}/api/v1/orders/R-1/advance",
            data=json.dumps({"version": 1}).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=EXIT_BOUND * 2) as response:
            answer["status"] = response.status
            answer["body"] = json.loads(response.read())

    try:
        with psycopg.connect(pg.url) as db:
            # Hold the order's row: the advance that comes in waits for it, in flight.
            db.execute("SELECT id FROM orders_order WHERE number = 'R-1' FOR UPDATE")
            tap = threading.Thread(target=advance)
            tap.start()
            with psycopg.connect(pg.url, autocommit=True) as watcher:
                deadline = time.monotonic() + 30
                while not watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                ).fetchone()[0]:
                    assert time.monotonic() < deadline, "the advance never reached the row lock"
            worker.send_signal(signal.SIGTERM)
            db.rollback()  # let the advance through
        tap.join(timeout=EXIT_BOUND * 2)
        assert answer.get("status") == 200, answer
        assert answer["body"]["version"] == 2
        assert worker.wait(timeout=EXIT_BOUND) == 0
        with psycopg.connect(pg.url) as db:
            version = db.execute("SELECT version FROM orders_order WHERE number = 'R-1'")
            assert version.fetchone()[0] == 2
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
