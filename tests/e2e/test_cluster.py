"""Two real Daphne processes sharing real PostgreSQL and Redis."""

import http.client
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from tests.support.databases import REDIS, reachable, throwaway_postgres
from tests.support.requirements import need
from tests.support.servers import (
    ROOT,
    customer_page,
    free_port,
    manage,
    signed_in_opener,
    staff_page,
    start_daphne,
    stop,
    watch_for,
)

LIVE = 10_000


@dataclass
class Node:
    url: str
    port: int
    process: subprocess.Popen


@dataclass
class Cluster:
    env: dict
    a: Node
    b: Node
    database_url: str

    def manage(self, *args: str) -> str:
        return manage(self.env, *args)

    def new_order(self, number: str, on: Node) -> str:
        out = self.manage(
            "create_order", "--shop", "demo", "--number", number, "--customer", "Maria"
        )
        return on.url + urllib.parse.urlsplit(out.strip().splitlines()[-1]).path

    def sql(self, query: str, *params: object) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.database_url) as conn:
            return conn.execute(query, params).fetchall()

    def restart(self, node: Node) -> None:
        stop(node.process)
        node.process = start_daphne(self.env, node.port)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    need(reachable(REDIS), f"Redis not reachable at {REDIS}")
    with throwaway_postgres("cluster") as database_url:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS,
            "CHANNEL_LAYER_PREFIX": f"tracker-test-{uuid.uuid4().hex[:8]}",
            "DEBUG": "true",
            "TRACKER_POLL_SECONDS": "600",  # only the sockets may deliver in these tests
        }
        nodes = []
        try:
            cluster = Cluster(env=env, a=None, b=None, database_url=database_url)
            cluster.manage("migrate", "--noinput")
            cluster.manage("seed_demo")
            for _ in range(2):
                port = free_port()
                nodes.append(Node(f"http://127.0.0.1:{port}", port, start_daphne(env, port)))
            cluster.a, cluster.b = nodes
            yield cluster
        finally:
            for node in nodes:
                stop(node.process)


def test_an_advance_on_one_process_reaches_a_watcher_on_the_other(browser, cluster) -> None:
    url = cluster.new_order("C-1", on=cluster.b)
    customer = customer_page(browser, url)
    expect(customer.locator("#live-status")).to_have_attribute("data-state", "live", timeout=LIVE)
    staff = staff_page(browser, _as_server(cluster.a))
    staff.get_by_role("button", name="Advance order C-1 to Preparing").click()
    expect(customer.get_by_role("progressbar")).to_have_attribute(
        "aria-valuetext", "Preparing", timeout=LIVE
    )
    customer.context.close()
    staff.context.close()


def test_twenty_simultaneous_taps_with_one_version_apply_exactly_once(cluster) -> None:
    cluster.new_order("C-2", on=cluster.a)
    (pk,) = cluster.sql(
        "SELECT o.id FROM orders_order o JOIN orders_shop s ON s.id = o.shop_id "
        "WHERE s.slug = 'demo' AND o.number = 'C-2'"
    )[0]
    clients = [signed_in_opener((cluster.a if i % 2 else cluster.b).url) for i in range(20)]
    nodes = [cluster.a if i % 2 else cluster.b for i in range(20)]
    barrier = threading.Barrier(20, timeout=30)
    results: list[tuple[int, str]] = [None] * 20

    def tap(i: int) -> None:
        opener, csrf = clients[i]
        request = urllib.request.Request(
            f"{nodes[i].url}/staff/orders/{pk}/advance/",
            data=b"version=1",
            headers={"X-CSRFToken": csrf, "HX-Request": "true", "Accept-Language": "en"},
        )
        barrier.wait()
        try:
            with opener.open(request, timeout=30) as response:
                results[i] = (response.status, response.read().decode())
        except urllib.error.HTTPError as error:
            results[i] = (error.code, error.read().decode())

    threads = [threading.Thread(target=tap, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    statuses = sorted(status for status, _ in results)
    errors = [html for status, html in results if status == 500]
    assert not errors, re.findall(r'exception_value">(.*?)<', errors[0], re.S)
    assert statuses == [200] + [409] * 19, statuses
    refusals = [html for status, html in results if status == 409]
    assert all(re.search(r"already moved to “Preparing” by Demo", h) for h in refusals)
    assert cluster.sql(
        "SELECT version, kind FROM orders_orderevent WHERE order_id = %s ORDER BY version", pk
    ) == [(1, "created"), (2, "advanced")]
    assert cluster.sql("SELECT version FROM orders_order WHERE id = %s", pk) == [(2,)]


def test_restarting_one_process_drops_only_its_sockets_and_its_pages_resync(
    browser, cluster
) -> None:
    sockets = {"a": 0, "b": 0}

    def counting(key: str) -> object:
        def relay(ws: object) -> None:
            sockets[key] += 1
            ws.connect_to_server()

        return relay

    url_a = cluster.new_order("C-3", on=cluster.a)
    url_b = url_a.replace(cluster.a.url, cluster.b.url)
    on_a = customer_page(browser, url_a, on_socket=counting("a"))
    on_b = customer_page(browser, url_b, on_socket=counting("b"))
    for page in (on_a, on_b):
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live", timeout=LIVE)

    stop(cluster.b.process)
    expect(on_b.locator("#live-status")).not_to_have_attribute("data-state", "live", timeout=LIVE)
    cluster.manage("shell", "-c", _ADVANCE % "C-3")  # committed while B is down
    # A's page hears it live, on its first and only socket.
    expect(on_a.get_by_role("progressbar")).to_have_attribute(
        "aria-valuetext", "Preparing", timeout=LIVE
    )
    expect(on_b.get_by_role("progressbar")).to_have_attribute("aria-valuetext", "Order received")
    cluster.b.process = start_daphne(cluster.env, cluster.b.port)
    expect(on_b.get_by_role("progressbar")).to_have_attribute(
        "aria-valuetext",
        "Preparing",
        timeout=40_000,  # reconnect backoff may reach ~16 s
    )
    assert sockets["a"] == 1 and sockets["b"] >= 2
    on_a.context.close()
    on_b.context.close()


def _as_server(node: Node) -> object:
    return type("S", (), {"url": node.url})()


_ADVANCE = """
from orders import services
from orders.models import Order
order = Order.objects.get(shop__slug="demo", number="%s")
services.advance_order(order=order, by=None, expected_version=order.version)
"""


def test_the_serve_launcher_runs_two_workers_and_replaces_a_dead_one(cluster) -> None:
    import json
    import signal

    port = free_port()
    launcher = subprocess.Popen(
        [sys.executable, "-m", "tracker.serve", "--workers", "2", "--port", str(port)],
        cwd=ROOT,
        env={**cluster.env, "EMAIL_URL": "consolemail://"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        first = launcher.stdout.readline()
        assert "2 worker(s)" in first, first
        pids = [int(p) for p in re.search(r"pids ([\d ]+)", first).group(1).split()]

        def health() -> dict:
            # The port is bound before the workers start: a request waits in the backlog.
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30) as r:
                return json.loads(r.read())

        assert health()["status"] == "ok"
        os.kill(pids[0], signal.SIGKILL)
        line = launcher.stdout.readline()
        assert f"worker {pids[0]} exited" in line and "restarting" in line
        assert all(health()["status"] == "ok" for _ in range(10))

        # Its delivery worker sends a confirmation queued by another process
        # (the console mail backend prints it on the launcher's output).
        url = (
            cluster.manage(
                *("create_order", "--shop", "demo", "--number", "SRV-1", "--customer", "Maria"),
                *("--email", "maria@example.com"),
            )
            .strip()
            .splitlines()[-1]
        )
        sent = watch_for(launcher.stdout, url)
        assert sent.wait(60), "the delivery worker did not send the confirmation"
    finally:
        launcher.terminate()
        assert launcher.wait(timeout=30) == 0


_CREATE_MANY = """
from orders import services
from orders.models import Shop
shop = Shop.objects.get(slug="demo")
workflow = shop.workflows.get(key="pizza")
for i in range(%d):
    services.create_order(
        shop=shop, workflow=workflow, number=f"K-{i}", customer_name="Maria", by=None
    )
"""


def test_a_process_killed_during_a_burst_of_advances_loses_and_duplicates_nothing(
    cluster,
) -> None:
    workers, per_worker = 4, 3
    cluster.manage("shell", "-c", _CREATE_MANY % (workers * per_worker))
    orders = cluster.sql(
        "SELECT o.id, (SELECT count(*) FROM orders_stage st WHERE st.workflow_id = o.workflow_id)"
        " FROM orders_order o JOIN orders_shop s ON s.id = o.shop_id"
        " WHERE s.slug = 'demo' AND o.number LIKE 'K-%%' ORDER BY o.id"
    )
    clients = {node.url: signed_in_opener(node.url) for node in (cluster.a, cluster.b)}
    a_alive = threading.Event()
    a_alive.set()
    lock = threading.Lock()
    tally = {"acked": 0, "committed_unacked": 0, "lost_connections": 0}
    failures: list[str] = []

    def tap(node: Node, pk: int, version: int) -> int:
        opener, csrf = clients[node.url]
        request = urllib.request.Request(
            f"{node.url}/staff/orders/{pk}/advance/",
            data=f"version={version}".encode(),
            headers={"X-CSRFToken": csrf, "HX-Request": "true"},
        )
        try:
            with opener.open(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    underway = threading.Event()  # set once eight advances have been answered

    def count(key: str) -> None:
        with lock:
            tally[key] += 1
            if tally["acked"] >= 8:
                underway.set()

    def advance_all(mine: list[tuple[int, int]]) -> None:
        versions = {pk: 1 for pk, _ in mine}
        turn = 0
        while any(versions[pk] < stages for pk, stages in mine):  # bounded: stages run out
            for pk, stages in mine:
                if versions[pk] >= stages:
                    continue
                turn += 1
                node = cluster.a if a_alive.is_set() and turn % 2 else cluster.b
                try:
                    status = tap(node, pk, versions[pk])
                except (OSError, http.client.HTTPException):
                    # The answer was lost with the process: did it commit? Retry the
                    # same version elsewhere; 409 means it did, 200 that it did not.
                    count("lost_connections")
                    a_alive.clear()
                    status = tap(cluster.b, pk, versions[pk])
                    if status == 409:
                        count("committed_unacked")
                        versions[pk] += 1
                        continue
                if status != 200:
                    failures.append(f"order {pk} v{versions[pk]}: {status}")
                    return
                count("acked")
                versions[pk] += 1

    threads = [
        threading.Thread(target=advance_all, args=(orders[i::workers],)) for i in range(workers)
    ]
    for t in threads:
        t.start()
    # Kill A (SIGKILL: no goodbye) once the burst is well under way.
    assert underway.wait(timeout=60), "the burst did not get going"
    cluster.a.process.kill()
    for t in threads:
        t.join(timeout=120)
    assert not failures, failures
    assert tally["lost_connections"] >= 1, "the kill must land during the burst"

    expected = sum(stages - 1 for _, stages in orders)
    assert tally["acked"] + tally["committed_unacked"] == expected, tally
    for pk, stages in orders:
        versions = [
            v
            for (v,) in cluster.sql(
                "SELECT version FROM orders_orderevent WHERE order_id = %s ORDER BY version", pk
            )
        ]
        assert versions == list(range(1, stages + 1)), (pk, versions)  # no gap, no duplicate
        assert cluster.sql("SELECT version FROM orders_order WHERE id = %s", pk) == [(stages,)]

    cluster.restart(cluster.a)  # and everything committed is visible through it too
    for pk, stages in orders:
        (token,) = cluster.sql("SELECT token FROM orders_order WHERE id = %s", pk)[0]
        page = urllib.request.urlopen(f"{cluster.a.url}/t/{token}/progress/", timeout=30)
        assert f'data-version="{stages}"' in page.read().decode()
