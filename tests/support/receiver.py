"""A real HTTP receiver on 127.0.0.1 for webhook tests: records requests, fails on cue."""

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    headers: dict
    body: bytes


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    # The answer to each request in turn; the last one repeats.
    statuses: list[int] = field(default_factory=lambda: [200])
    requests: list[Received] = field(default_factory=list)
    location: str = ""
    # While set, a request is held (recorded, unanswered) until `release` is set:
    # a destination that hangs.
    hold: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/tracker"


def _serve() -> Iterator[Receiver]:
    state: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            me: Receiver = state["receiver"]
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            me.requests.append(Received(dict(self.headers.items()), body))
            me.arrived.set()
            if me.hold:
                me.release.wait(timeout=60)  # bounded: the test releases it
            status = me.statuses[min(len(me.requests), len(me.statuses)) - 1]
            self.send_response(status)
            if me.location:
                self.send_header("Location", me.location)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["receiver"] = me = Receiver(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield me
    me.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from _serve()


@pytest.fixture
def other_receiver() -> Iterator[Receiver]:
    yield from _serve()
