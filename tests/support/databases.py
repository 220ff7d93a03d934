"""Throwaway PostgreSQL databases on the machine's server, dropped afterwards."""

import os
import socket
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.requirements import need

POSTGRES = os.environ.get(
    "TRACKER_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
REDIS = os.environ.get("TRACKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def reachable(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=2):
            return True
    except OSError:
        return False


@contextmanager
def throwaway_postgres(label: str) -> Iterator[str]:
    """A new, empty database; yields its URL."""
    need(reachable(POSTGRES), f"PostgreSQL not reachable at {POSTGRES}")
    import psycopg

    name = f"tracker_{label}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urllib.parse.urlsplit(POSTGRES)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
