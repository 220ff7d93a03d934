"""One Daphne worker, as `python -m daphne` runs it, that stops quickly and cleanly.

    python -m tracker.worker --fd 3 tracker.asgi:application   (Daphne's own options)

On SIGTERM Daphne cancels every application coroutine, lets Twisted drop each
socket without a close frame, and the interpreter then frees them one by one:
with 10,000 sockets held that took 7-8 s on the bench machine, and no page can
reconnect to the new process meanwhile (docs/BENCHMARKS.md, the storm).

This worker instead stops accepting, closes every socket with "service restart"
(so pages reconnect at once, to another worker or to the new process), waits
until each socket is closed and each request in flight is answered, and then
ends: what is left is memory and file descriptors that the kernel frees anyway.

It does not wait for the sockets' disconnect handlers: all they do is leave
their groups, and a process that ends leaves them anyway (the in-memory layer
ends with it; Redis drops its Pub/Sub subscriptions with its connection). With
the Redis core layer, memberships of a stopped process expire as after a crash.
Waiting for them let a stop with 10,000 sockets run into the drain limit.
"""

import logging
import os
import sys
import time
from http import HTTPStatus

from daphne.cli import CommandLineInterface
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import defer, task
from twisted.web import http

from tracker.closecodes import CLOSE_SERVICE_RESTART
from tracker.serve import STOP_WAIT_SECONDS

log = logging.getLogger(__name__)

# Requests in flight and closing sockets get this long after SIGTERM, well within
# tracker.serve's wait before it kills a worker.
DRAIN_SECONDS = STOP_WAIT_SECONDS - 5
DRAIN_CHECK_SECONDS = 0.05

# ASGI carries no reason phrase, and Twisted's table lacks some of the statuses we
# answer (422, 429): its status line read "429 Unknown Status". Fill the gaps from
# the standard library's names; Twisted's own entries stay as they are.
for _status in HTTPStatus:
    http.RESPONSES.setdefault(_status.value, _status.phrase.encode())


class QuickStopServer(Server):
    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.ports: list = []

    def listen_success(self, port) -> None:  # noqa: ANN001
        self.ports.append(port)
        super().listen_success(port)

    def kill_all_applications(self) -> defer.Deferred:
        """Daphne's "before shutdown" step: the whole stop, ending the process."""
        started = time.monotonic()
        for port in self.ports:
            port.stopListening()  # with --fd: this process only; other workers go on
        for protocol in list(self.connections):
            if isinstance(protocol, WebSocketProtocol):
                if protocol.state == WebSocketProtocol.STATE_OPEN:
                    protocol.serverClose(code=CLOSE_SERVICE_RESTART)  # as websocket.close
                protocol.transport.loseConnection()  # after the close frame is written
        finished = defer.Deferred()

        def check() -> None:
            waiting = self.unfinished()
            late = time.monotonic() - started > DRAIN_SECONDS
            if waiting and not late:
                return
            if waiting:
                log.warning("stopping with %d request(s) or socket(s) unfinished", waiting)
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
            # Skip the interpreter's teardown: freeing every object of 10,000 sockets
            # one by one is seconds of work for memory the kernel reclaims at once.
            os._exit(0)

        task.LoopingCall(check).start(DRAIN_CHECK_SECONDS)
        return finished  # never fires: check() ends the process

    def unfinished(self) -> int:
        """Sockets not closed yet, and requests whose application has not answered."""
        return sum(
            1
            for protocol, details in self.connections.items()
            if "disconnected" not in details
            or (
                not isinstance(protocol, WebSocketProtocol)
                and (application := details.get("application_instance")) is not None
                and not application.done()
            )
        )


class WorkerCommandLine(CommandLineInterface):
    server_class = QuickStopServer


if __name__ == "__main__":
    WorkerCommandLine.entrypoint()
