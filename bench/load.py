"""Load generators, each in its own process: websocket watchers and staff tablets.

Watchers behave like the page: they connect, take the snapshot, record every pushed
fragment's version with its arrival time, and (when asked) reconnect after a close
with the page's own backoff (full jitter, 1 s doubling, capped at 30 s).
Tablets advance and undo orders through the staff HTTP endpoint, as a tap does.
"""

import asyncio
import http.client
import multiprocessing
import random
import re
import threading
import time

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

VERSION = re.compile(r'data-version="(\d+)"')


def backoff(retries: int) -> float:
    """The page's reconnect delay (static/js/tracker.js), in seconds."""
    return random.random() * min(30.0, 2.0 ** min(retries, 5))


class Watchers:
    """Commands over a pipe: connect, arrivals, storm_wait, close."""

    def __init__(self, pipe: object, urls: list[str], origin: str, in_flight: int) -> None:
        self.pipe = pipe
        self.urls = urls
        self.origin = origin
        self.limit = asyncio.Semaphore(in_flight)
        self.arrivals: list[tuple[int, int, float]] = []  # (watcher, version, time)
        self.connected: list[float | None] = [None] * len(urls)
        self.errors = {"5xx": 0, "other": 0}
        self.reconnect = False
        self.sockets: list = [None] * len(urls)

    async def watch(self, i: int) -> None:
        retries = 0
        while True:
            try:
                async with self.limit:
                    ws = await connect(
                        self.urls[i], origin=self.origin, open_timeout=60, ping_interval=None
                    )
                    first = await ws.recv()
                self.sockets[i] = ws
                self.connected[i] = time.time()
                retries = 0
                self.arrivals.append((i, int(VERSION.search(first).group(1)), time.time()))
                async for message in ws:
                    match = VERSION.search(message)
                    if match:
                        self.arrivals.append((i, int(match.group(1)), time.time()))
            except InvalidStatus as error:
                self.errors["5xx" if error.response.status_code >= 500 else "other"] += 1
            except (TimeoutError, OSError, Exception):
                self.errors["other"] += 0 if self.reconnect else 1
            self.connected[i] = None
            if not self.reconnect:
                return
            await asyncio.sleep(backoff(retries))
            retries += 1

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        tasks = []
        while True:
            command, arg = await loop.run_in_executor(None, self.pipe.recv)
            if command == "connect":
                self.reconnect = bool(arg)
                start = time.time()
                tasks = [asyncio.ensure_future(self.watch(i)) for i in range(len(self.urls))]
                deadline = start + 300  # bounded: what is not in by then is reported
                while (
                    sum(c is not None for c in self.connected) + sum(t.done() for t in tasks)
                    < len(tasks)
                    and time.time() < deadline
                ):
                    await asyncio.sleep(0.01)
                done = [c for c in self.connected if c is not None]
                self.pipe.send((len(done), start, max(done, default=start), dict(self.errors)))
            elif command == "arrivals":
                self.pipe.send(self.arrivals)
                self.arrivals = []
            elif command == "storm_wait":
                # Every socket was dropped at `arg`: wait until all are back (bounded).
                deadline = time.time() + 120
                while time.time() < deadline:
                    back = [c for c in self.connected if c is not None and c > arg]
                    if len(back) == len(self.urls):
                        break
                    await asyncio.sleep(0.05)
                self.pipe.send((len(back), max(back, default=arg), dict(self.errors)))
            elif command == "close":
                self.reconnect = False
                for ws in self.sockets:
                    if ws is not None:
                        ws.transport.abort()
                for t in tasks:
                    t.cancel()
                self.pipe.send(True)
                return


def _watchers_main(pipe: object, urls: list[str], origin: str, in_flight: int) -> None:
    from .app import raise_fd_limit

    raise_fd_limit()
    asyncio.run(Watchers(pipe, urls, origin, in_flight).run())


class WatcherPool:
    """Watchers spread over several processes (the server must be the bottleneck).

    At most `in_flight` handshakes per process at a time: Daphne drops a handshake
    its application has not accepted within 5 s, so an unbounded burst measures
    retries and backoff, not how fast the server connects.
    """

    def __init__(
        self, urls: list[str], origin: str, processes: int = 4, in_flight: int = 25
    ) -> None:
        self.pipes, self.procs = _spawn(
            _watchers_main, [(urls[k::processes], origin, in_flight) for k in range(processes)]
        )
        self.processes = processes

    def ask(self, command: str, arg: object = None) -> list:
        for pipe in self.pipes:
            pipe.send((command, arg))
        return [pipe.recv() for pipe in self.pipes]

    def connect(self, reconnect: bool = False) -> tuple[int, float, float, dict]:
        answers = self.ask("connect", reconnect)
        errors = {k: sum(a[3][k] for a in answers) for k in ("5xx", "other")}
        return (
            sum(a[0] for a in answers),
            min(a[1] for a in answers),
            max(a[2] for a in answers),
            errors,
        )

    def arrivals(self) -> list[tuple[int, int, float]]:
        """(watcher index in the full url list, version, arrival time)."""
        out = []
        for k, answer in enumerate(self.ask("arrivals")):
            out += [(i * self.processes + k, v, t) for i, v, t in answer]
        return out

    def storm_wait(self, dropped_at: float) -> tuple[int, float, dict]:
        answers = self.ask("storm_wait", dropped_at)
        errors = {k: sum(a[2][k] for a in answers) for k in ("5xx", "other")}
        return sum(a[0] for a in answers), max(a[1] for a in answers), errors

    def close(self) -> None:
        self.ask("close")
        for p in self.procs:
            p.join(timeout=30)


# --- staff tablets -----------------------------------------------------------------


def staff_headers(session: str, csrf: str) -> dict:
    """What a signed-in tablet sends with a tap: its cookies, CSRF token, htmx mark."""
    return {
        "Cookie": f"sessionid={session}; csrftoken={csrf}",
        "X-CSRFToken": csrf,
        "HX-Request": "true",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def _tablet(
    port: int,
    session: str,
    csrf: str,
    orders: list,
    plan: list,
    out: list,
    lock: object,
    until: float | None,
) -> None:
    """Advance/undo the given orders at the planned send times; record each request."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = staff_headers(session, csrf)
    state = {pk: [version, True] for pk, version in orders}  # version, next is an advance
    for at, pk in plan:
        if until is not None and time.time() > until:
            break
        if at is not None:
            delay = at - time.time()
            if delay > 0:
                time.sleep(delay)  # open-loop pacing of the load, not a wait for a result
        version, forward = state[pk]
        path = f"/staff/orders/{pk}/{'advance' if forward else 'undo'}/"
        sent = time.time()
        conn.request("POST", path, body=f"version={version}", headers=headers)
        response = conn.getresponse()
        response.read()
        done = time.time()
        if response.status == 200:
            state[pk] = [version + 1, not forward]
        with lock:
            out.append((pk, version + 1, sent, done, response.status))
    conn.close()


def _run_threads(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _spawn(target: object, args_per_process: list[tuple]) -> tuple[list, list]:
    """One spawned process per argument tuple, each given a pipe first; (pipes, processes)."""
    ctx = multiprocessing.get_context("spawn")
    pipes, procs = [], []
    for args in args_per_process:
        mine, theirs = ctx.Pipe()
        p = ctx.Process(target=target, args=(theirs, *args))
        p.start()
        pipes.append(mine)
        procs.append(p)
    return pipes, procs


def collect(pipes: list, procs: list) -> list:
    """Every process's list of results, joined."""
    out = []
    for pipe in pipes:
        out += pipe.recv()
    for p in procs:
        p.join(timeout=30)
    return out


def _tablets_main(
    pipe: object, port: int, session: str, csrf: str, jobs: list, until: float | None
) -> None:
    out: list = []
    lock = threading.Lock()
    threads = [
        threading.Thread(target=_tablet, args=(port, session, csrf, orders, plan, out, lock, until))
        for orders, plan in jobs
    ]
    _run_threads(threads)
    pipe.send(out)


def run_tablets(
    port: int, session: str, csrf: str, jobs_per_process: list[list], until: float | None = None
) -> list:
    """Each job: (orders [(pk, version)], plan [(send_at or None, pk)]) run by one thread;
    None sends as soon as the previous answer is in; nothing is sent after `until`.

    Returns every request as (pk, new version, sent, done, status).
    """
    return collect(
        *_spawn(_tablets_main, [(port, session, csrf, jobs, until) for jobs in jobs_per_process])
    )


# --- polling pages -----------------------------------------------------------------


def _poller(port: int, paths: list[str], every: float, until: float, out: list) -> None:
    """Poll each path every `every` seconds (random phase, as pages load at random
    times) until `until`; record the version each answer shows."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    due = [time.time() + random.random() * every for _ in paths]
    while True:
        i = min(range(len(paths)), key=due.__getitem__)
        if due[i] > until:
            break
        delay = due[i] - time.time()
        if delay > 0:
            time.sleep(delay)  # the poll schedule itself, not a wait for a result
        conn.request("GET", paths[i], headers={"HX-Request": "true", "Accept-Language": "en"})
        body = conn.getresponse().read().decode()
        match = VERSION.search(body)
        if match:
            out.append((paths[i], int(match.group(1)), time.time()))
        due[i] += every
    conn.close()


def _pollers_main(pipe: object, port: int, paths: list[str], every: float, until: float) -> None:
    out: list = []
    threads = [
        threading.Thread(target=_poller, args=(port, paths[k::25], every, until, out))
        for k in range(min(25, len(paths)))
    ]
    _run_threads(threads)
    pipe.send(out)


def run_pollers(
    port: int, paths: list[str], every: float, until: float, processes: int = 2
) -> tuple[list, list]:
    """Every path polled every `every` s until `until`; started, not awaited: pass the
    answer to collect() for [(path, version, seen at)]."""
    return _spawn(
        _pollers_main, [(port, paths[k::processes], every, until) for k in range(processes)]
    )
