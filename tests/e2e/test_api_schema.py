"""Schemathesis against the OpenAPI schema served by a real Daphne: no 5xx, no violations.

Run on SQLite and on PostgreSQL (which refuses what SQLite takes, such as NUL bytes).
Every check runs except positive_data_acceptance: some schema-valid requests are
rightly refused by rules a schema cannot state (a delay's new time must be in the
future, a window must not end before it starts), with a 422 that says so.
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import pytest

from tests.support.databases import throwaway_postgres
from tests.support.servers import (
    ROOT,
    free_port,
    local_env,
    manage,
    migrate_and_seed_demo,
    start_daphne,
    stop,
)

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def _database(backend: str, tmp_path: Path) -> AbstractContextManager[str]:
    if backend == "postgres":
        return throwaway_postgres("schema")
    return nullcontext(f"sqlite:///{tmp_path / 'db.sqlite3'}")


@pytest.fixture(params=["sqlite", "postgres"])
def api_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    with _database(request.param, tmp_path) as database_url:
        port = free_port()
        # The rate limit has its own test.
        env = local_env(database_url, port, TRACKER_API_REQUESTS_PER_MINUTE="1000000")

        migrate_and_seed_demo(env)
        key = manage(env, "create_api_key", "--shop", "demo", "--name", "schemathesis").strip()
        process = start_daphne(env, port)
        try:
            yield f"http://127.0.0.1:{port}", key
        finally:
            stop(process)


def test_the_served_schema_holds_under_generated_requests(api_server: tuple[str, str]) -> None:
    url, key = api_server
    run = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            f"{url}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {key}",
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
            "--max-examples",
            "25",
            "--seed",
            "20261123",
            "--workers",
            "1",
            "--no-color",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )
    report = run.stdout[-4000:] + run.stderr[-2000:]
    assert run.returncode == 0, report
    assert "passed" in run.stdout and "failed" not in run.stdout.split("SUMMARY")[-1], report
