"""Run N Daphne workers on one listening socket, restarting any that dies.

    python -m tracker.serve --workers 4 --port 8000

The parent binds the port once and every worker (tracker.worker: Daphne, with a
quick clean stop) accepts on it, so the kernel spreads connections and a page
whose worker restarts reconnects to any live one. Several workers need REDIS_URL:
the in-memory channel layer cannot carry a change from one process to another.

One more process delivers queued e-mails, SMS and webhooks (`manage.py deliver`);
--no-outbox leaves that to a worker run elsewhere (several may run at once).
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from types import FrameType

RESTART_BACKOFF_SECONDS = 1.0
# How long a stopping worker may drain (tracker.worker) before it is killed.
STOP_WAIT_SECONDS = 15


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tracker.serve", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "1")))
    parser.add_argument(
        "--proxy-headers",
        action="store_true",
        help="trust X-Forwarded-For/-Proto from the reverse proxy in front",
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="print an access line per request (off by default: paths carry tracking tokens)",
    )
    parser.add_argument(
        "--no-outbox",
        action="store_true",
        help="do not start the delivery worker (e-mails, SMS, webhooks) here",
    )
    return parser.parse_args(argv)


APPLICATION = "tracker.asgi:application"


def worker_command(
    fd: int, proxy_headers: bool, access_log: bool, application: str = APPLICATION
) -> list[str]:
    command = [sys.executable, "-m", "tracker.worker", "--fd", str(fd)]
    if proxy_headers:
        command.append("--proxy-headers")
    # Verbosity 0 drops Daphne's access lines; its warnings and our JSON logs remain.
    command += ["--access-log", "-"] if access_log else ["-v", "0"]
    # Websocket pings every 20 s keep proxies (nginx: 60 s idle) from cutting sockets.
    command += ["--ping-interval", "20", "--ping-timeout", "30", application]
    return command


OUTBOX_COMMAND = [sys.executable, "manage.py", "deliver"]


def spawn(command: list[str], fd: int | None = None) -> subprocess.Popen:
    fds = (fd,) if fd is not None else ()
    return subprocess.Popen(command, pass_fds=fds)  # noqa: S603 — our own fixed command


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.workers < 1:
        print("serve: --workers must be at least 1", file=sys.stderr)
        return 2
    if args.workers > 1 and not os.environ.get("REDIS_URL"):
        print(
            "serve: several workers need REDIS_URL; the in-memory channel layer would "
            "lose every update that crosses processes. Set REDIS_URL or use --workers 1.",
            file=sys.stderr,
        )
        return 2
    listener = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((args.host, args.port))
    except OSError as error:
        print(f"serve: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 2
    listener.listen(2048)
    fd = listener.fileno()
    os.set_inheritable(fd, True)
    command = worker_command(fd, args.proxy_headers, args.access_log)

    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    commands = [(command, fd)] * args.workers
    if not args.no_outbox:
        commands.append((OUTBOX_COMMAND, None))
    workers = [spawn(*c) for c in commands]
    print(
        f"serve: {args.workers} worker(s) on http://{args.host}:{args.port} "
        f"(pids {' '.join(str(w.pid) for w in workers[: args.workers])})"
        + ("" if args.no_outbox else f"; delivery worker pid {workers[-1].pid}"),
        flush=True,
    )
    while not stopping:
        for i, worker in enumerate(workers):
            if worker.poll() is not None and not stopping:
                print(
                    f"serve: worker {worker.pid} exited ({worker.returncode}); restarting",
                    flush=True,
                )
                time.sleep(RESTART_BACKOFF_SECONDS)  # a crash loop must not spin the CPU
                workers[i] = spawn(*commands[i])
        time.sleep(0.5)
    # Graceful: each worker tells its sockets to reconnect (elsewhere) and drains.
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=STOP_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            worker.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
