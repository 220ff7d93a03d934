"""The ASGI application Daphne serves: a request crosses into a thread once."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref import sync
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
def test_a_page_request_runs_its_middleware_and_view_in_one_thread_call(
    order: Order, monkeypatch
) -> None:
    # Counted where asgiref crosses, with the real crossings still made.
    crossings: list[str] = []
    for name in ("AsyncToSync", "SyncToAsync"):
        cls = getattr(sync, name)

        def counted(self: object, *args: object, _real=cls.__call__, _name=name, **kwargs: object):
            crossings.append(_name)
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__call__", counted)

    # In a thread of its own: after the browser tests, Playwright's loop runs in
    # this thread and no other loop can start here.
    with ThreadPoolExecutor(1) as thread:
        status, body, headers = thread.submit(asyncio.run, _get(f"/t/{order.token}/")).result()
    assert status == 200
    assert f'data-version="{order.version}"'.encode() in body
    # The whole middleware chain ran: its outermost and innermost headers are there.
    assert b"x-request-id" in headers and b"content-security-policy" in headers
    # Stock Django hopped back to the event loop for its inner handler and out again
    # for the view (WhiteNoise and our middleware are sync-only): never in the middle.
    assert "AsyncToSync" not in crossings
