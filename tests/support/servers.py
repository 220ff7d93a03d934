"""A real Daphne process on a free port with its own SQLite file, and real Chromium."""

import http.cookiejar
import os
import socket
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.requirements import need

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("TRACKER_CHROMIUM", "/usr/bin/chromium")
# Chromium as root on a closed network: no sandbox, no background connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def local_env(database_url: str, port: int, **extra: str) -> dict:
    """This environment for a development-mode server on 127.0.0.1:`port`: its own
    database, the in-memory channel layer."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": "",
        "DEBUG": "true",
        "TRACKER_PUBLIC_URL": f"http://127.0.0.1:{port}",
        **extra,
    }


def run_manage(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """A management command in its own process with this environment."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
    )


def manage(env: dict, *args: str) -> str:
    """Run a management command that must succeed; its standard output."""
    return run_manage(env, *args).stdout


def migrate_and_seed_demo(env: dict) -> None:
    """A fresh database for this environment with the demo shop (user demo/demo)."""
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo")


def watch_for(stream: object, text: str, lines: list | None = None) -> threading.Event:
    """An event set once `text` appears in the stream; the stream keeps being drained
    (into `lines`, when given)."""
    seen = threading.Event()

    def watch() -> None:
        for line in stream:
            if lines is not None:
                lines.append(line)
            if text in line:
                seen.set()

    threading.Thread(target=watch, daemon=True).start()
    return seen


@dataclass
class Server:
    url: str
    env: dict
    process: subprocess.Popen

    def manage(self, *args: str) -> str:
        """Run a management command against this server's database; return its stdout."""
        return manage(self.env, *args)

    def new_order(self, number: str, workflow: str = "pizza") -> str:
        out = self.manage(
            "create_order",
            "--shop",
            "demo",
            "--number",
            number,
            "--customer",
            "Maria Ivanova",
            "--workflow",
            workflow,
        )
        return out.strip().splitlines()[-1]


def start_daphne(
    env: dict, port: int, timeout: float = 30, log: list | None = None
) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tracker.worker",  # Daphne as tracker.serve runs it in production
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "tracker.asgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Daphne says when it listens.
    listening = watch_for(process.stderr, "Listening on TCP address", log)
    if not listening.wait(timeout):
        process.kill()
        raise RuntimeError(f"Daphne did not start listening on port {port} within {timeout}s")
    return process


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    env = local_env(
        f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'db.sqlite3'}",
        port,
        # Only the websocket can move the bar within a test: polling is far away.
        TRACKER_POLL_SECONDS="600",
    )
    srv = Server(url=f"http://127.0.0.1:{port}", env=env, process=None)
    srv.manage("migrate", "--noinput")
    srv.manage("seed_demo")
    srv.process = start_daphne(env, port)
    yield srv
    stop(srv.process)


@pytest.fixture(scope="session")
def polling_server(server: Server) -> Iterator[Server]:
    """A second process on the same database whose pages poll every second."""
    port = free_port()
    env = {
        **server.env,
        "TRACKER_POLL_SECONDS": "1",
        "TRACKER_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    process = start_daphne(env, port)
    yield Server(url=f"http://127.0.0.1:{port}", env=env, process=process)
    stop(process)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    need(Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def staff_page(
    browser: object,
    server: Server,
    width: int = 1024,
    locale: str = "en-US",
    deaf: bool = False,
    bypass_csp: bool = False,
    height: int = 900,
    user: str = "demo",
    clock: bool = False,
) -> object:
    """A signed-in tablet on `user`'s shop board (`clock`: see _open)."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale=locale, bypass_csp=bypass_csp
    )
    page = _open(context, server.url + "/staff/login/", (lambda ws: None) if deaf else None, clock)
    page.fill("#id_username", user)
    page.fill("#id_password", user)
    page.click("button[type=submit], form.login button")
    page.wait_for_url("**/staff/*/")
    return page


def customer_page(
    browser: object,
    url: str,
    width: int = 390,
    locale: str = "en-US",
    on_socket: object = None,
    clock: bool = False,
) -> object:
    context = browser.new_context(
        viewport={"width": width, "height": 844}, locale=locale, is_mobile=True, has_touch=True
    )
    return _open(context, url, on_socket, clock)


def _open(context: object, url: str, on_socket: object, clock: bool) -> object:
    """A page of `context` at `url`; `on_socket` handles its websockets, `clock` makes its
    clock Playwright's (page.clock), to be moved by the test instead of waited for."""
    if on_socket is not None:
        context.route_web_socket("**/ws/**", on_socket)
    page = context.new_page()
    if clock:
        page.clock.install()
    page.goto(url)
    return page


def signed_in_opener(base_url: str) -> tuple[urllib.request.OpenerDirector, str]:
    """A cookie-keeping HTTP client signed in as the demo staff user, and its CSRF token."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(base_url + "/staff/login/", timeout=10)
    csrf = next(c.value for c in jar if c.name == "csrftoken")
    body = urllib.parse.urlencode(
        {"username": "demo", "password": "demo", "csrfmiddlewaretoken": csrf}
    ).encode()
    opener.open(urllib.request.Request(base_url + "/staff/login/", data=body), timeout=10)
    assert any(c.name == "sessionid" for c in jar), "sign-in failed"
    csrf = next(c.value for c in jar if c.name == "csrftoken")
    return opener, csrf
