"""Hostile bytes on the wire against a real Daphne: malformed UTF-8, huge bodies,
broken websocket frames, unexpected socket messages, foreign origins.

Always a clear 4xx or a polite close; the server keeps serving and logs no
application error. (Hostile values in well-formed requests: tests/test_hostile.py.)
"""

import contextlib
import os
import socket
import urllib.request
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.support.servers import Server, free_port, manage, start_daphne, stop


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, list, str]]:
    tmp = tmp_path_factory.mktemp("wire")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "STATIC_ROOT": str(tmp / "static"),
        "REDIS_URL": "",
        "DEBUG": "false",
        "SECRET_KEY": "wire-test-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "TRACKER_PUBLIC_URL": base,
        "TRACKER_WS_MAX_AGE_SECONDS": "2",
    }
    for args in (("migrate", "--noinput"), ("collectstatic", "--noinput"), ("seed_demo",)):
        manage(env, *args)
    server = Server(url=base, env=env, process=None)
    url = server.new_order("W-1")
    log: list[str] = []
    server.process = start_daphne(env, port, log=log)
    yield server, log, url.rsplit("/t/", 1)[1].strip("/")
    stop(server.process)


def raw_http(port: int, request: bytes) -> bytes:
    """Send bytes as they are; the whole answer (the server closes after it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(request)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks) and len(chunks) > 64:
                break  # enough to read the status line of a long answer
        return b"".join(chunks)


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0


def port_of(server: Server) -> int:
    return int(server.url.rsplit(":", 1)[1])


def assert_still_serving(server: Server, log: list) -> None:
    """It answers, and logged no application error (refusals Django files under
    django.security, such as a foreign Host or a too-big body, are not errors of ours)."""
    with urllib.request.urlopen(server.url + "/healthz", timeout=10) as response:
        assert response.status == 200
    errors = [
        line
        for line in log
        if ("Traceback" in line or '"level": "ERROR"' in line)
        and '"logger": "django.security.' not in line
    ]
    assert not errors, errors[:3]


def request(line: bytes, headers: bytes = b"", body: bytes | None = None) -> bytes:
    head = line + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers
    if body is not None:
        head += b"Content-Length: %d\r\n" % len(body)
    return head + b"\r\n" + (body or b"")


FORM = b"Content-Type: application/x-www-form-urlencoded\r\n"
MALFORMED_HTTP = {
    "invalid UTF-8 in the path": request(b"GET /t/\xff\xfe%ff/ HTTP/1.1"),
    "invalid UTF-8 in the query": request(b"GET /track/?lang=\xc3\x28&next=%ff HTTP/1.1"),
    "invalid UTF-8 in a form body": request(
        b"POST /track/ HTTP/1.1", FORM, b"number=\xff\xfe\xfd&contact=%ff%fe%c3"
    ),
    "invalid UTF-8 in an API body": request(
        b"POST /api/v1/orders HTTP/1.1",
        b"Authorization: Bearer x\r\nContent-Type: application/json\r\n",
        b'{"number":"\xff\xfe"}',
    ),
    "a header with control bytes": request(b"GET /healthz HTTP/1.1", b"X-A: \x01\x02\r\n"),
    "a foreign Host": b"GET /track/ HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
}


@pytest.mark.parametrize("case", MALFORMED_HTTP)
def test_malformed_http_gets_a_clear_4xx(app, case: str) -> None:
    server, log, _ = app
    answer = raw_http(port_of(server), MALFORMED_HTTP[case])
    assert 200 <= status_of(answer) < 500, (case, answer[:200])
    assert_still_serving(server, log)


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/track/", "application/x-www-form-urlencoded"),
        ("/staff/login/", "multipart/form-data; boundary=xyz"),
        ("/api/v1/orders", "application/json"),
    ],
)
def test_a_huge_body_is_refused_with_413_or_400(app, path: str, content_type: str) -> None:
    server, log, _ = app
    size = 30 * 2**20  # 30 MiB, far beyond any limit
    body = b"a=" + b"x" * (size - 2)
    answer = raw_http(
        port_of(server),
        request(
            f"POST {path} HTTP/1.1".encode(), f"Content-Type: {content_type}\r\n".encode(), body
        ),
    )
    assert status_of(answer) in (400, 403, 413), answer[:200]
    assert_still_serving(server, log)


def ws_url(server: Server, token: str) -> str:
    return server.url.replace("http", "ws", 1) + f"/ws/t/{token}/"


def close_code(ws: object) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        while True:  # bounded by the socket's own close: recv raises then
            ws.recv(timeout=30)
    return closed.value.rcvd.code if closed.value.rcvd else 1006


@pytest.mark.parametrize(
    ("message", "as_text"),
    [("hello", True), ('{"type": "push", "html": "<script>"}', True), (b"\x00\xff", False)],
)
def test_any_message_on_a_read_only_socket_gets_a_policy_close(
    app, message: str | bytes, as_text: bool
) -> None:
    server, log, token = app
    with connect(ws_url(server, token), origin=server.url) as ws:
        assert 'id="progress"' in ws.recv(timeout=30)  # the snapshot first
        ws.send(message, text=as_text)
        assert close_code(ws) == 4008
    assert_still_serving(server, log)


def test_invalid_utf8_in_a_text_frame_closes_the_socket(app) -> None:
    server, log, token = app
    with connect(ws_url(server, token), origin=server.url) as ws:
        ws.recv(timeout=30)
        ws.send(b"\xff\xfe\xfd", text=True)
        # Autobahn fails the connection: 1007 (invalid payload) or a plain drop (1006).
        assert close_code(ws) in (1006, 1007)
    assert_still_serving(server, log)


def test_an_oversized_frame_closes_the_socket(app) -> None:
    server, log, token = app
    with connect(ws_url(server, token), origin=server.url, max_size=None) as ws:
        ws.recv(timeout=30)
        try:
            ws.send("x" * (2 * 2**20))
        except ConnectionClosed as closed:  # dropped while it was still being sent
            code = closed.rcvd.code if closed.rcvd else 1006
        else:
            code = close_code(ws)
        # Beyond Daphne's 1 MiB frame cap: dropped (1006) or closed as too big (1009).
        assert code in (1006, 1009)
    assert_still_serving(server, log)


def test_garbage_after_the_handshake_drops_only_that_connection(app) -> None:
    server, log, token = app
    with socket.create_connection(("127.0.0.1", port_of(server)), timeout=30) as s:
        s.sendall(
            (
                f"GET /ws/t/{token}/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                f"Sec-WebSocket-Version: 13\r\nOrigin: {server.url}\r\n\r\n"
            ).encode()
        )
        assert s.recv(4096).startswith(b"HTTP/1.1 101")
        # An unmasked frame with a reserved opcode and a length beyond the data.
        s.sendall(b"\x8b\x7f" + b"\xff" * 8 + b"garbage")
        with contextlib.suppress(ConnectionResetError):  # a reset is a fine end too
            while s.recv(65536):  # bounded: the server ends the connection
                pass
    assert_still_serving(server, log)


@pytest.mark.parametrize(
    ("path", "origin"),
    [
        ("/ws/t/{token}/", "http://evil.example"),
        ("/ws/t/{token}/", "null"),
        ("/ws/staff/demo/", None),  # not signed in
        ("/ws/t/not-a-token/", None),
        ("/ws/t/%ff%fe/", None),
        ("/ws/nothing/", None),
    ],
)
def test_refused_handshakes_are_refused_politely(app, path: str, origin: str | None) -> None:
    server, log, token = app
    url = server.url.replace("http", "ws", 1) + path.format(token=token)
    with (
        pytest.raises((InvalidStatus, ConnectionClosed)) as refused,
        connect(url, origin=origin or server.url) as ws,
    ):
        ws.recv(timeout=30)
    if isinstance(refused.value, InvalidStatus):
        assert refused.value.response.status_code == 403
    assert_still_serving(server, log)


def test_a_socket_past_its_max_age_gets_a_reconnectable_close(app) -> None:
    # Before Channels' group_expiry could silently cut it off; the page reconnects.
    server, log, token = app
    with connect(ws_url(server, token), origin=server.url) as ws:
        ws.recv(timeout=30)
        assert close_code(ws) == 4012
    assert_still_serving(server, log)
