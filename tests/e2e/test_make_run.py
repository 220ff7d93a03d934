"""`make run` on another port: every link points there, with nothing else to set."""

import os
import signal
import subprocess
import urllib.request

from tests.support.servers import ROOT, free_port, manage, watch_for


def test_make_run_on_another_port_gives_links_to_that_port(tmp_path) -> None:
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in ("TRACKER_PUBLIC_URL", "PORT", "REDIS_URL")
    }
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    run = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # so the test can stop make and everything it started
    )
    lines: list[str] = []
    try:
        assert watch_for(run.stdout, "worker(s) on", lines).wait(120), "".join(lines)
        printed = [line for line in lines if "/t/" in line or "/staff/login/" in line]
        assert printed and all(f"http://127.0.0.1:{port}/" in line for line in printed), printed
        # A command typed in another terminal, with no PORT and no setting.
        link = manage(
            env, "create_order", "--shop", "demo", "--number", "P-1", "--customer", "Ivan"
        )
        link = link.strip().splitlines()[-1]
        assert link.startswith(f"http://127.0.0.1:{port}/t/"), link
        # The launcher listens before it starts the worker: the request waits for it.
        with urllib.request.urlopen(link, timeout=60) as page:
            assert page.status == 200
    finally:
        os.killpg(run.pid, signal.SIGTERM)
        run.wait(timeout=30)
