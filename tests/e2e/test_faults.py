"""Real failures on real processes: the database or Redis goes away and comes back."""

import json
import os
import urllib.error
import urllib.request

import psycopg
import pytest
from playwright.sync_api import expect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.support.pgserver import PgServer, pg_server  # noqa: F401 (fixture)
from tests.support.redisserver import RedisServer, redis_server  # noqa: F401 (fixture)
from tests.support.servers import (
    Server,
    customer_page,
    free_port,
    local_env,
    manage,
    migrate_and_seed_demo,
    signed_in_opener,
    staff_page,
    start_daphne,
    stop,
)

# Generous upper bounds for the page to notice; speed is measured in bench/, not here.
NOTICE = 15_000
# htmx's reconnect backoff after a few refused attempts can reach tens of seconds.
RECONNECT = 90_000


def call(method: str, url: str, key: str, body: dict | None = None) -> tuple[int, dict, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def snapshot_version(url: str, origin: str) -> int | None:
    """The version in a tracking socket's snapshot, or None when it is refused or closed."""
    try:
        with connect(url, origin=origin, open_timeout=30) as ws:
            return int(ws.recv(timeout=30).split('data-version="')[1].split('"')[0])
    except (ConnectionClosed, InvalidStatus, OSError):
        return None


def test_without_the_database_everyone_gets_a_clear_503_and_nothing_half_written(
    pg_server: PgServer,  # noqa: F811 (the fixture)
) -> None:
    pg = pg_server
    pg.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = local_env(pg.url, port)

    daphne = None
    try:
        migrate_and_seed_demo(env)
        key = manage(env, "create_api_key", "--shop", "demo", "--name", "faults").strip()
        daphne = start_daphne(env, port)
        status, _, created = call(
            "POST", f"{base}/api/v1/orders", key, {"number": "F-1", "customer_name": "Maria"}
        )
        assert status == 201
        staff, csrf = signed_in_opener(base)
        token = created["tracking_url"].rstrip("/").rsplit("/", 1)[1]
        socket_url = f"ws://127.0.0.1:{port}/ws/t/{token}/?lang=en"

        # Requests reuse the process's idle connections: twenty requests start at most
        # a few server sessions, not twenty (pg_stat_database counts every session).
        def sessions() -> int:
            with psycopg.connect(pg.url, autocommit=True) as conn:
                return conn.execute(
                    "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
                ).fetchone()[0]

        before = sessions()
        for _ in range(20):
            assert call("GET", f"{base}/api/v1/orders/F-1", key)[0] == 200
        assert sessions() - before <= 3 + 1  # (+1: the query's own session)

        # Sockets share one kept database connection: it is open when the database goes.
        assert snapshot_version(socket_url, base) == 1

        pg.stop()  # the database goes away while the app runs
        assert snapshot_version(socket_url, base) is None  # closed to retry, not hung

        status, headers, body = call(
            "POST", f"{base}/api/v1/orders/F-1/advance", key, {"version": 1}
        )
        assert status == 503
        assert "nothing was changed" in body["detail"]
        assert headers["Retry-After"] == "5"
        assert call("GET", f"{base}/api/v1/orders", key)[0] == 503

        # A tap on the board: the board keeps its state and says what happened.
        tap = urllib.request.Request(
            f"{base}/staff/orders/1/advance/",
            data=b"version=1",
            headers={"X-CSRFToken": csrf, "HX-Request": "true", "Accept-Language": "en"},
        )
        try:
            staff.open(tap, timeout=30)
            raise AssertionError("the tap should have been refused")
        except urllib.error.HTTPError as error:
            assert error.code == 503
            assert error.headers["HX-Reswap"] == "none"
            assert 'id="flash"' in error.read().decode()

        # The customer's page: a plain, polite 503.
        try:
            page = urllib.request.Request(
                created["tracking_url"], headers={"Accept-Language": "en"}
            )
            urllib.request.urlopen(page, timeout=30)
            raise AssertionError("the page should be unavailable")
        except urllib.error.HTTPError as error:
            assert error.code == 503
            assert "nothing was changed" in error.read().decode()

        pg.start()  # it comes back; Daphne was never restarted

        status, _, order = call("GET", f"{base}/api/v1/orders/F-1", key)
        assert status == 200
        assert order["version"] == 1  # the refused advance left no trace
        assert [e["version"] for e in order["history"]] == [1]
        status, _, moved = call("POST", f"{base}/api/v1/orders/F-1/advance", key, {"version": 1})
        assert (status, moved["version"]) == (200, 2)
        # The kept connection broke with the restart: a socket costs at most one
        # retry (the page's backoff) before snapshots flow again.
        versions = [snapshot_version(socket_url, base) for _ in range(2)]
        assert versions[-1] == 2, versions
    finally:
        if daphne is not None:
            stop(daphne)
        pg.stop()


@pytest.mark.browser
def test_redis_going_away_loses_no_tap_pages_poll_and_push_resumes_without_a_restart(
    browser,
    redis_server: RedisServer,  # noqa: F811 (the fixture)
    tmp_path,
) -> None:
    redis_server.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": redis_server.url,
        "DEBUG": "true",
        "TRACKER_PUBLIC_URL": base,
        "TRACKER_POLL_SECONDS": "1",
        "TRACKER_LAYER_PROBE_SECONDS": "0.5",
        "TRACKER_LAYER_PROBE_TIMEOUT_SECONDS": "1",
    }
    migrate_and_seed_demo(env)
    app = Server(url=base, env=env, process=start_daphne(env, port))
    try:
        customer = customer_page(browser, app.new_order("R-1"))
        bar = customer.get_by_role("progressbar")
        status = customer.locator("#live-status")
        expect(status).to_have_attribute("data-state", "live", timeout=NOTICE)
        staff = staff_page(browser, app)
        staff.get_by_role("button", name="Advance order R-1 to Preparing").click()
        expect(bar).to_have_attribute("aria-valuetext", "Preparing", timeout=NOTICE)

        redis_server.stop()  # Redis goes away while the app runs

        # The page stops claiming to be live, and keeps what it showed.
        expect(status).not_to_have_attribute("data-state", "live", timeout=NOTICE)
        expect(bar).to_have_attribute("aria-valuetext", "Preparing")
        # A tap still commits, and the customer's page shows it by polling.
        staff.get_by_role("button", name="Advance order R-1 to Baking").click()
        # Its answer follows the commit's broadcast, which may first wait out the
        # layer's attempt to reach the dead Redis: a wider bound than a page's notice.
        expect(staff.locator("#flash")).to_have_text("Order R-1: Baking.", timeout=RECONNECT)
        expect(bar).to_have_attribute("aria-valuetext", "Baking", timeout=NOTICE)
        expect(status).to_have_attribute("data-state", "polling")

        redis_server.start()  # it comes back on the same port; Daphne is not restarted

        expect(status).to_have_attribute("data-state", "live", timeout=RECONNECT)
        staff.get_by_role("button", name="Advance order R-1 to Out for delivery").click()
        # Live again: a page whose socket is open does not poll, so this came by push.
        expect(bar).to_have_attribute("aria-valuetext", "Out for delivery", timeout=NOTICE)
        expect(status).to_have_attribute("data-state", "live")
        assert app.process.poll() is None, "Daphne must have stayed up throughout"
        customer.context.close()
        staff.context.close()
    finally:
        stop(app.process)
