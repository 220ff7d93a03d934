"""The database settings as they ship: the PostgreSQL pool and SQLite for taps."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db.utils import ConnectionHandler

from tests.support.databases import throwaway_postgres
from tracker.database import database_config

SHIPPED = settings.DATABASE_POOL


def _connection(alias: str, url: str):
    # Its own alias: pools are kept per alias, and "default" may be the suite's own.
    handler = ConnectionHandler(
        {"default": {"ENGINE": "django.db.backends.dummy"}, alias: database_config(url, **SHIPPED)}
    )
    return handler[alias]


def _in_a_thread(work: Callable[[], None]) -> None:
    # As requests do; and the browser tests leave an event loop on the main thread,
    # where Django refuses synchronous database work.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(work).result()


def _one(connection, sql: str) -> object:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def test_session_state_set_by_one_request_never_reaches_the_next(django_db_blocker) -> None:
    with throwaway_postgres("pool") as url, django_db_blocker.unblock():
        _in_a_thread(lambda: _session_is_wiped(_connection("pooled", url)))


def _session_is_wiped(connection) -> None:
    try:
        connection.ensure_connection()
        pid = _one(connection, "SELECT pg_backend_pid()")
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMP TABLE leftover (x int)")
            cursor.execute("SELECT pg_advisory_lock(42)")
            cursor.execute("LISTEN somewhere")
            cursor.execute("SET search_path = nowhere")
            cursor.execute("SET default_transaction_read_only = on")
            cursor.execute("SET statement_timeout = '5min'")
        connection.close()  # the request ends: back to the pool

        # The pool hands out its connections in turn: take them until the same
        # server session comes back (bounded by the pool's size).
        for _ in range(SHIPPED["pool_max"] + 1):
            connection.ensure_connection()
            if _one(connection, "SELECT pg_backend_pid()") == pid:
                break
            connection.close()
        else:
            pytest.fail("the pool never handed the same session out again")

        assert _one(connection, "SHOW statement_timeout") == "0"
        assert _one(connection, "SHOW search_path") == '"$user", public'
        assert _one(connection, "SHOW transaction_read_only") == "off"
        assert _one(connection, "SHOW TimeZone") == "UTC"
        assert _one(connection, "SELECT to_regclass('pg_temp.leftover')") is None
        assert _one(connection, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == 0
        assert _one(connection, "SELECT count(*) FROM pg_listening_channels()") == 0
        with connection.cursor() as cursor:  # writable again
            cursor.execute("CREATE TABLE written (x int)")
    finally:
        connection.close()
        connection.close_pool()


def test_sqlite_is_set_up_for_a_web_app(tmp_path, django_db_blocker) -> None:
    def check() -> None:
        connection = _connection("embedded", f"sqlite:///{tmp_path / 'db.sqlite3'}")
        assert _one(connection, "PRAGMA journal_mode") == "wal"
        assert _one(connection, "PRAGMA busy_timeout") == 20_000
        assert connection.transaction_mode == "IMMEDIATE"
        connection.close()

    with django_db_blocker.unblock():
        _in_a_thread(check)
