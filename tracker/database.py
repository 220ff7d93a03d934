"""The database settings: SQLite for the embedded default, PostgreSQL through
Django's connection pool (psycopg-pool) in production.

Under ASGI every request runs in a thread of its own, so Django's persistent
connections (per thread) would never be reused; the pool shares a few connections
among all of a process's threads instead. Two choices make it safe and quick to heal:

- A connection is checked and its session wiped (``DISCARD ALL``) each time a
  request takes it from the pool: whatever an earlier request set
  (``statement_timeout``, ``search_path``, read-only, a temporary table, an
  advisory lock, ``LISTEN``) never reaches the next one. The time zone is a
  startup parameter, so the wipe keeps it.
  The wipe is Django's public ``connection_created`` signal (sent on every
  checkout from the pool), not the pool's ``reset`` callback: with a ``reset``
  every return is handed to a pool worker, and a worker still holding one when
  the pool closes drops it unclosed, so the session outlives the pool. Django's
  test runner then cannot drop its test database ("being accessed by other
  users"; tests/test_django_suite.py).
- ``reconnect_timeout=0``: the pool gives up on a failed connection attempt at
  once instead of retrying it with a growing backoff (1, 2, 4… seconds). The next
  request then asks for a new connection itself, so a restarted database serves
  the first request after it is back instead of 503s until the backoff ends.
"""

from pathlib import Path

import environ
from django.db.backends.signals import connection_created


def wipe_session(sender, connection, **kwargs: object) -> None:  # noqa: ANN001
    """Wipe what an earlier request set on a pooled PostgreSQL session, on checkout.

    Then set again what Django sets once per new session: its time zone (when it
    differs from the startup one) and the role from ``OPTIONS["assume_role"]``.
    """
    if connection.vendor != "postgresql" or connection.pool is None:
        return
    # On the driver's connection, so it never counts as one of the request's
    # queries; it is in autocommit here (Django's AUTOCOMMIT), as DISCARD needs.
    session = connection.connection
    session.execute("DISCARD ALL")
    zone = connection.timezone_name
    if zone and session.info.parameter_status("TimeZone") != zone:
        session.execute(connection.ops.set_time_zone_sql(), [zone])
    if role := connection.settings_dict["OPTIONS"].get("assume_role"):
        session.execute(connection.ops.compose_sql("SET ROLE %s", [role]))


# Connected where the settings are read, so every process that uses them wipes.
connection_created.connect(wipe_session, dispatch_uid="tracker.database.wipe_session")


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
        }
        # UTC is Django's connection time zone with USE_TZ.
        options["options"] = (options.get("options", "") + " -c TimeZone=UTC").strip()
    return config
