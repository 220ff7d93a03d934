"""Django's own backend tests pass with the database settings Tracker ships.

The selection is Django's `backends`, `transactions` and `select_for_update`, from
the source release of the Django version installed here (PyPI's sdist carries the
test suite; it is fetched once into the virtualenv). They run in a child process,
with `tests/support/django_suite_settings.py`: the PostgreSQL pool with its session
reset, and SQLite with WAL and IMMEDIATE transactions.
"""

import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import django

from tests.support.databases import POSTGRES, reachable
from tests.support.requirements import need

ROOT = Path(__file__).resolve().parent.parent
LABELS = ["backends", "transactions", "select_for_update"]

# These two assert what Django does when `transaction_mode` is left unset (a plain
# BEGIN). Tracker sets IMMEDIATE on purpose (tracker/database.py), so they see
# "BEGIN IMMEDIATE"; any other failure, or another message, fails this test.
SQLITE_BY_DESIGN = {
    "backends.base.test_base.DatabaseWrapperLoggingTests.test_commit_debug_log",
    "backends.sqlite.tests.TestTransactionMode.test_default_transaction_mode",
}


def _django_tests() -> Path:
    """The `tests` folder of this Django version's source release."""
    version = django.__version__
    home = Path(sys.prefix) / f"django-{version}-tests"
    runtests = home / f"django-{version}" / "tests" / "runtests.py"
    if runtests.exists():
        return runtests.parent
    home.mkdir(exist_ok=True)
    fetched = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check"),
            *("--no-deps", "--no-binary", ":all:", f"Django=={version}", "--dest", str(home)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    archives = list(home.glob(f"[Dd]jango-{version}.tar.gz"))
    need(
        fetched.returncode == 0 and bool(archives),
        f"Django {version}'s source release could not be fetched from PyPI: "
        + fetched.stderr.strip()[-300:],
    )
    with tarfile.open(archives[0]) as archive:
        archive.extractall(home, filter="data")
    return runtests.parent


def _run(tests: Path, default: str, other: str) -> tuple[str, dict[str, str]]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SUITE_DATABASE_URL": default,
        "DJANGO_SUITE_OTHER_DATABASE_URL": other,
    }
    result = subprocess.run(
        [
            *(sys.executable, "runtests.py", "--noinput", "--parallel=1"),
            *("--settings=tests.support.django_suite_settings", *LABELS),
        ],
        cwd=tests,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    ran = re.search(r"^Ran (\d+) tests?", output, re.M)
    assert ran and int(ran.group(1)) > 400, output[-3000:]
    # unittest's report: a "FAIL: name (module.Class.name)" header, then its traceback.
    failed = {}
    for block in re.split(r"^=+\n", output, flags=re.M):
        header = re.match(r"(?:FAIL|ERROR): \S+ \(([\w.]+)\)", block)
        if header:
            failed[header.group(1)] = block
    return output, failed


def test_django_backend_tests_pass_on_sqlite_as_shipped(tmp_path) -> None:
    output, failed = _run(
        _django_tests(),
        f"sqlite:///{tmp_path / 'default.sqlite3'}",
        f"sqlite:///{tmp_path / 'other.sqlite3'}",
    )
    assert set(failed) <= SQLITE_BY_DESIGN, output[-5000:]
    for block in failed.values():
        assert "'BEGIN IMMEDIATE' != 'BEGIN'" in block, block


def test_django_backend_tests_pass_on_postgresql_with_the_pool() -> None:
    need(reachable(POSTGRES), f"PostgreSQL not reachable at {POSTGRES}")
    server = POSTGRES.rsplit("/", 1)[0]
    suffix = os.getpid()
    output, failed = _run(
        _django_tests(),
        f"{server}/tracker_django_suite_{suffix}",
        f"{server}/tracker_django_suite_other_{suffix}",
    )
    assert not failed, output[-5000:]
    assert "Destroying test database for alias 'other'" in output
