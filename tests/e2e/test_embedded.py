"""The embedded default under one shop's load: SQLite never refuses a tap."""

import json
import threading
import urllib.error
import urllib.request

from tests.support.servers import Server, server  # noqa: F401 (fixture)

ORDERS = 8
ROUNDS = 10


def _call(url: str, key: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_quick_taps_on_several_orders_at_once_are_never_refused_by_sqlite(
    server: Server,  # noqa: F811 (the fixture)
) -> None:
    # A key per till: one key's rate limit would refuse before SQLite could.
    keys = [
        server.manage("create_api_key", "--shop", "demo", "--name", f"till {i}").strip()
        for i in range(ORDERS)
    ]
    api = f"{server.url}/api/v1/orders"
    numbers = [f"Q-{i}" for i in range(ORDERS)]
    for number, key in zip(numbers, keys, strict=True):
        assert _call(api, key, {"number": number, "customer_name": "Maria"})[0] == 201
    statuses: list[int] = []
    start = threading.Barrier(ORDERS, timeout=30)

    def tap(number: str, key: str) -> None:
        # Advance and undo as quickly as a busy counter: each answer's version feeds the next.
        version = 1
        start.wait()
        for _ in range(ROUNDS):
            for action in ("advance", "undo"):
                status, body = _call(f"{api}/{number}/{action}", key, {"version": version})
                statuses.append(status)
                version = body.get("version", version) if status == 200 else version

    threads = [threading.Thread(target=tap, args=pair) for pair in zip(numbers, keys, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert statuses == [200] * (ORDERS * ROUNDS * 2), sorted(set(statuses))
    for number, key in zip(numbers, keys, strict=True):
        status, order = _call(f"{api}/{number}", key)
        assert (status, order["version"]) == (200, 1 + ROUNDS * 2)


def test_a_refusal_carries_its_standard_reason_phrase(
    server: Server,  # noqa: F811 (the fixture)
) -> None:
    # Twisted's status table lacks 429; clients and proxies logged "Unknown Status".
    request = urllib.request.Request(
        f"{server.url}/track/demo/",
        data=b"number=nothing&contact=nobody%40example.com",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    for _ in range(10):  # bounded: the limit is 5 failed tries
        try:
            urllib.request.urlopen(request, timeout=30)
        except urllib.error.HTTPError as error:
            if error.code == 429:
                assert error.reason == "Too Many Requests"
                return
    raise AssertionError("the lookup was never rate-limited")
