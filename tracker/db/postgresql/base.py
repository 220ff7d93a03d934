"""PostgreSQL whose connections outlive a request: idle ones are kept for the next.

Under ASGI every request runs in a thread of its own, so Django's persistent
connections (per thread) are never reused, and each request costs a new PostgreSQL
connection: a server process forked, authenticated and torn down. Here a request's
connection goes back to a small per-process stack of idle ones instead, and the next
request takes it after one empty round trip proves it alive. Nothing waits: with
no idle connection, or none alive (the database restarted), a new one is opened at
once, and while the database is down that fails at once, as without reuse. (Django's
psycopg pool was tried and reverted: its background reconnect backoff kept
answering 503 for a while after the database came back.)

TRACKER_DB_IDLE_CONNECTIONS sets how many idle connections a process keeps (0: none).
"""

import threading
from collections import defaultdict

import psycopg
from django.conf import settings
from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus

_IDLE: defaultdict[tuple, list[psycopg.Connection]] = defaultdict(list)
_IDLE_LOCK = threading.Lock()


def _server(conn_params: dict) -> tuple:
    """Which server, database and login a connection is for: only those are shared."""
    return tuple(sorted((k, repr(v)) for k, v in conn_params.items()))


def _alive(connection: psycopg.Connection) -> bool:
    if connection.closed or connection.info.transaction_status != TransactionStatus.IDLE:
        return False
    try:
        connection.autocommit = True  # Django sets its own mode after the checkout
        connection.execute("")  # one round trip; a restarted server fails it
    except psycopg.Error:
        return False
    return True


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict) -> psycopg.Connection:
        self._server = _server(conn_params)
        while True:  # bounded: each pass removes one idle connection
            with _IDLE_LOCK:
                idle = _IDLE[self._server]
                connection = idle.pop() if idle else None
            if connection is None:
                return super().get_new_connection(conn_params)
            if _alive(connection):
                return connection
            connection.close()

    def _close(self) -> None:
        connection = self.connection
        keep = settings.TRACKER_DB_IDLE_CONNECTIONS
        if (
            keep > 0
            and connection is not None
            and not connection.closed
            and not connection.broken
            and connection.info.transaction_status == TransactionStatus.IDLE
        ):
            with _IDLE_LOCK:
                idle = _IDLE[self._server]
                if len(idle) < keep:
                    idle.append(connection)
                    return
        super()._close()
