"""The database settings: SQLite for the embedded default, PostgreSQL through
Django's connection pool (psycopg-pool) in production.

Under ASGI every request runs in a thread of its own, so Django's persistent
connections (per thread) would never be reused; the pool shares a few connections
among all of a process's threads instead. Two choices make it safe and quick to heal:

- A connection goes back to the pool with its session wiped (``DISCARD ALL``):
  whatever a request set (``statement_timeout``, ``search_path``, read-only, a
  temporary table, an advisory lock, ``LISTEN``) never reaches the next request.
  The time zone is a startup parameter, so the reset keeps it.
- ``reconnect_timeout=0``: the pool gives up on a failed connection attempt at
  once instead of retrying it with a growing backoff (1, 2, 4… seconds). The next
  request then asks for a new connection itself, so a restarted database serves
  the first request after it is back instead of 503s until the backoff ends.
"""

from pathlib import Path

import environ


def reset_session(connection) -> None:  # noqa: ANN001 (a psycopg connection)
    """Wipe every session setting before the pool hands the connection out again."""
    connection.autocommit = True  # DISCARD ALL cannot run inside a transaction
    connection.execute("DISCARD ALL")


def database_config(url: str, *, pool_min: int, pool_max: int, pool_timeout: float) -> dict:
    """Django's DATABASES entry for `url` (sqlite:///… or postgres://…)."""
    config = environ.Env.db_url_config(url)
    options = config.setdefault("OPTIONS", {})
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets pages read while a tap writes. IMMEDIATE takes the write lock when
        # a transaction starts, so two taps queue on the busy timeout instead of one
        # failing "database is locked" when its read lock cannot be upgraded.
        # Tests use a file beside it, not SQLite's in-memory database: that one locks
        # whole tables across connections and fails at once instead of waiting, which
        # is not how the embedded default behaves under concurrent taps.
        if config["NAME"] not in ("", ":memory:"):
            path = Path(config["NAME"])
            config.setdefault("TEST", {}).setdefault(
                "NAME", str(path.with_name(f"test_{path.name}"))
            )
        options.update(
            {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            }
        )
    elif config["ENGINE"] == "django.db.backends.postgresql":
        # Checked on checkout: a connection broken by a database restart is replaced.
        config["CONN_HEALTH_CHECKS"] = True
        options["pool"] = {
            "min_size": pool_min,
            "max_size": max(pool_min, pool_max),
            "timeout": pool_timeout,
            "reconnect_timeout": 0,
            "reset": reset_session,
        }
        # UTC is Django's connection time zone with USE_TZ.
        options["options"] = (options.get("options", "") + " -c TimeZone=UTC").strip()
    return config
