"""The ASGI application Daphne serves: a page runs through the whole middleware chain."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.testing import ApplicationCommunicator

from orders.models import Order


async def _get(path: str) -> tuple[int, bytes, dict[bytes, bytes]]:
    from tracker.asgi import application

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"lang=en",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }
    talk = ApplicationCommunicator(application, scope)
    await talk.send_input({"type": "http.request", "body": b""})
    start = await talk.receive_output(10)
    body = b""
    while True:  # until the last body message; bounded by the response's size
        message = await talk.receive_output(10)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    return start["status"], body, {k.lower(): v for k, v in start["headers"]}


@pytest.mark.django_db(transaction=True)  # the request's own thread reads the order
def test_a_page_request_runs_the_whole_middleware_chain_and_its_view(order: Order) -> None:
    # In a thread of its own: after the browser tests, Playwright's loop runs in
    # this thread and no other loop can start here.
    with ThreadPoolExecutor(1) as thread:
        status, body, headers = thread.submit(asyncio.run, _get(f"/t/{order.token}/")).result()
    assert status == 200
    order.refresh_from_db()  # its first opening is recorded as a change
    assert f'data-version="{order.version}"'.encode() in body
    # Its outermost and innermost middleware's headers are there.
    assert b"x-request-id" in headers and b"content-security-policy" in headers
