# ruff: noqa: E501 (Markdown tables are written line by line)
"""Run every benchmark and write docs/BENCHMARKS.md (make bench).

Benchmarks start their own PostgreSQL, Redis and Daphne on free local ports, drive
them from separate load processes and stop everything by themselves. Sizes can be
lowered for a quick look: BENCH_SOCKETS, BENCH_BIG, BENCH_REPEAT, BENCH_RATE.
"""

import datetime
import json
import os
import statistics
import sys
import time
from collections.abc import Callable

from tracker.serve import APPLICATION

from . import layers, scenarios
from .app import _run, prepare, production_env, raise_fd_limit, throwaway_postgres
from .common import ROOT, machine, throwaway_redis

BARE = "bench.bare:application"  # the settled stack alone: the floor under each figure

SOCKETS = int(os.environ.get("BENCH_SOCKETS", "10000"))
BIG = int(os.environ.get("BENCH_BIG", "2000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "2"))  # what docs/BENCHMARKS.md shows
RATE = int(os.environ.get("BENCH_RATE", "100"))
SHOP_ORDERS = 30  # a busy shop's open orders: what one board shows

INTRO = """# Benchmarks

Written by `make bench` ({date}, {minutes:.0f} min), on {machine}.
Production settings (DEBUG off, no access log, `python -m tracker.serve` worker
command), a private PostgreSQL and redis-server, load from separate processes on the
same machine (so the load competes with the server for the two cores; figures are
conservative). Median of {repeat} runs, min–max in brackets. Latency is measured from
the moment a tablet SENDS the advance (write and commit included) to the moment a
watcher has the new fragment. Rerun `make bench` to reproduce.
"""


def med(runs: list[dict], key: str, fmt: str = "{:,.1f}") -> str:
    values = [r[key] for r in runs]
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def repeat(name: str, scenario: Callable[[], dict]) -> list[dict]:
    """The scenario's figures from REPEAT runs, saying on stderr how far the bench is."""
    runs = []
    for k in range(REPEAT):
        began = time.time()
        runs.append(scenario())
        print(f"bench: {name} {k + 1}/{REPEAT} in {time.time() - began:.0f} s", file=sys.stderr)
    return runs


NUMBERS_ORDERS = int(os.environ.get("BENCH_NUMBERS_ORDERS", "100000"))


def numbers_section(env: dict) -> str:
    """8. The owner's numbers on a big shop (`bench/numbers.py`), PostgreSQL."""
    r = json.loads(_run(env, "-m", "bench.numbers", str(NUMBERS_ORDERS)).strip().splitlines()[-1])
    rows = "\n".join(
        f"| {label} | {r[f'{key}_orders']:,} | {r[f'{key}_queries']} | {r[f'{key}_ms']:,.0f} |"
        for key, label in (("today", "today"), ("7d", "7 days"), ("30d", "30 days"))
    )
    return f"""
## 8. The owner's numbers on a big shop (PostgreSQL)

One shop with {r["orders"]:,} orders spread over 30 days, each with its full history
(`bench/numbers.py`). The console's numbers page reads a period in a fixed number
of queries; the time is the whole computation (queries, medians, percentiles),
warm, in one process.

| period | orders in it | queries | ms |
|---|---|---|---|
{rows}
"""


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def main() -> int:
    raise_fd_limit()
    began = time.time()
    out = []
    with throwaway_postgres() as database, throwaway_redis() as redis:
        memory = production_env(database)
        shops = -(-max(SOCKETS // 2, BIG) // SHOP_ORDERS) + 1
        seed = prepare(memory, shops, SHOP_ORDERS)

        def fresh() -> dict:  # versions move on with every run
            return prepare(memory, shops, SHOP_ORDERS, setup=False)

        idle = repeat("idle and storm", lambda: scenarios.idle_and_storm(memory, fresh(), SOCKETS))
        bare = repeat(
            "idle and storm, the stack alone",
            lambda: scenarios.idle_and_storm(memory, fresh(), SOCKETS, BARE),
        )
        out.append(
            f"""
## 1–2. Idle capacity, connect rate, reconnect storm (one Daphne process)

"The stack alone" is the same measurement of Daphne and Channels with a consumer
that only joins its group, accepts and sends a fixed 3 KB fragment (`bench/bare.py`):
no database, no rendering, no Tracker code. It is what the settled stack allows on
this box with this load generator, the floor under every Tracker figure here.

| measure | Tracker | the stack alone | target | Tracker |
|---|---|---|---|---|
| tracking sockets held by one process | {med(idle, "held", "{:,.0f}")} | {med(bare, "held", "{:,.0f}")} | ≥ 10,000 | {verdict(min(r["held"] for r in idle) >= 10000)} |
| RSS per socket, KB (idle baseline subtracted: Tracker {med(idle, "rss_baseline_mb")} MB, the stack alone {med(bare, "rss_baseline_mb")} MB) | {med(idle, "kb_per_socket")} | {med(bare, "kb_per_socket")} | ≤ 30 | {verdict(statistics.median(r["kb_per_socket"] for r in idle) <= 30)} |
| connects/s, snapshot included | {med(idle, "connects_per_s", "{:,.0f}")} | {med(bare, "connects_per_s", "{:,.0f}")} | ≥ 1,000 | {verdict(statistics.median(r["connects_per_s"] for r in idle) >= 1000)} |
| server CPU ms per connect | {med(idle, "cpu_ms_per_connect", "{:.2f}")} | {med(bare, "cpu_ms_per_connect", "{:.2f}")} | | |
| storm: sockets back after a restart | {med(idle, "storm_back", "{:,.0f}")} | {med(bare, "storm_back", "{:,.0f}")} | all | {verdict(all(r["storm_back"] == r["held"] for r in idle))} |
| storm: seconds until all resynced | {med(idle, "storm_seconds")} | {med(bare, "storm_seconds")} | ≤ 30 | {verdict(statistics.median(r["storm_seconds"] for r in idle) <= 30)} |
| storm, its parts: seconds to stop (SIGTERM until exit) | {med(idle, "storm_stop_s")} | {med(bare, "storm_stop_s")} | | |
| storm, its parts: seconds to start (until it answers, warmed up) | {med(idle, "storm_start_s")} | {med(bare, "storm_start_s")} | | |
| storm, its parts: seconds after that until all are back | {med(idle, "storm_after_start_s")} | {med(bare, "storm_after_start_s")} | | |
| storm: 5xx answers | {med(idle, "storm_5xx", "{:,.0f}")} | {med(bare, "storm_5xx", "{:,.0f}")} | 0 | {verdict(all(r["storm_5xx"] == 0 for r in idle))} |
"""
        )
        rows = []
        for label, env, procs, app in (
            ("in-memory, 1 process", memory, 1, APPLICATION),
            (
                "Redis Pub/Sub, 2 processes",
                production_env(database, redis, "pubsub"),
                2,
                APPLICATION,
            ),
            ("Redis core, 2 processes", production_env(database, redis, "core"), 2, APPLICATION),
            ("the stack alone: in-memory, 1 process", memory, 1, BARE),
            (
                "the stack alone: Redis Pub/Sub, 2 processes",
                production_env(database, redis, "pubsub"),
                2,
                BARE,
            ),
        ):
            small = repeat(
                f"push latency, {label}",
                lambda env=env, procs=procs, app=app: scenarios.push_latency(
                    env, fresh(), SOCKETS, RATE, 5, procs, app
                ),
            )
            big = repeat(
                f"one big order, {label}",
                lambda env=env, procs=procs, app=app: scenarios.one_big_order(
                    env, fresh(), BIG, 5, procs, app
                ),
            )
            rows.append(
                f"| {label} | {med(small, 'held', '{:,.0f}')} | {med(small, 'advances', '{:,.0f}')} | "
                f"{med(small, 'p50_ms')} | {med(small, 'p99_ms')} | {med(small, 'missing', '{:,.0f}')} | "
                f"{med(big, 'p99_ms')} | {med(big, 'deliveries_per_s', '{:,.0f}')} |"
            )
        out.append(
            f"""
## 3 and 7. Push latency, one process and two behind Redis

(a) {SOCKETS:,} sockets in order-sized groups (1–3 watchers), {RATE} advances/s for 5 s;
(b) {BIG:,} watchers of ONE order, one advance a second; (c) deliveries/s while that
order is advanced back to back. Targets: (a) p99 ≤ 50 ms, (b) p99 ≤ 500 ms,
(c) ≥ 5,000/s. "The stack alone" rows: `bench/bare.py`'s tap and socket, which
render nothing (see section 1–2).

| layer | sockets | advances | (a) p50 ms | (a) p99 ms | missed fragments | (b) all delivered p99 ms | (c) deliveries/s |
|---|---|---|---|---|---|---|---|
"""
            + "\n".join(rows)
            + "\n"
        )
        pubsub = production_env(database, redis, "pubsub")
        writes = repeat(
            "write throughput", lambda: scenarios.write_throughput(pubsub, fresh(), 10, 2, 16)
        )
        bare_writes = repeat(
            "write throughput, the stack alone",
            lambda: scenarios.write_throughput(pubsub, fresh(), 10, 2, 16, BARE),
        )
        out.append(
            f"""
## 4. Write throughput (2 processes, PostgreSQL + Redis Pub/Sub, broadcasts on)

16 tablets, closed loop (advance, undo, ...) for 10 s through the staff endpoint.
The stack alone: `bench/bare.py`'s tap (signed in, CSRF-checked, row lock, version
check, update, event, commit, a fixed fragment to the order's group; no rendering).

| measure | Tracker | the stack alone | target | Tracker |
|---|---|---|---|---|
| advances/s | {med(writes, "advances_per_s")} | {med(bare_writes, "advances_per_s")} | ≥ 300 | {verdict(statistics.median(r["advances_per_s"] for r in writes) >= 300)} |
| request p50 ms | {med(writes, "p50_ms")} | {med(bare_writes, "p50_ms")} | | |
| request p99 ms | {med(writes, "p99_ms")} | {med(bare_writes, "p99_ms")} | ≤ 50 | {verdict(statistics.median(r["p99_ms"] for r in writes) <= 50)} |
| errors | {med(writes, "errors", "{:,.0f}")} | {med(bare_writes, "errors", "{:,.0f}")} | 0 | |
"""
        )
        pages = repeat("tracking page", lambda: scenarios.page(memory, seed, 2000, 8))
        bare_pages = repeat(
            "tracking page, the stack alone",
            lambda: scenarios.page(memory, seed, 2000, 8, BARE),
        )
        parts = ", ".join(f"{k} {v / 1024:.1f} KB" for k, v in pages[0]["parts"].items())
        out.append(
            f"""
## 5. The tracking page (one process; one client alone, then 8 concurrent clients)

One client alone shows a request's own time; with 8 clients a request also waits
for the ones ahead of it (one process runs Python on one core). The stack alone:
`bench/bare.py`'s page (the order's version by its token, a fixed 6 KB page).

| measure | Tracker | the stack alone | target | Tracker |
|---|---|---|---|---|
| one client: response time p50 ms | {med(pages, "alone_p50_ms")} | {med(bare_pages, "alone_p50_ms")} | ≤ 10 | {verdict(statistics.median(r["alone_p50_ms"] for r in pages) <= 10)} |
| one client: response time p99 ms | {med(pages, "alone_p99_ms")} | {med(bare_pages, "alone_p99_ms")} | | |
| 8 clients: response time p50 ms | {med(pages, "p50_ms")} | {med(bare_pages, "p50_ms")} | ≤ 10 | {verdict(statistics.median(r["p50_ms"] for r in pages) <= 10)} |
| 8 clients: response time p99 ms | {med(pages, "p99_ms")} | {med(bare_pages, "p99_ms")} | | |
| pages/s | {med(pages, "pages_per_s", "{:,.0f}")} | {med(bare_pages, "pages_per_s", "{:,.0f}")} | | |
| first visit, compressed KB | {med(pages, "first_visit_kb")} | | ≤ 30 | {verdict(statistics.median(r["first_visit_kb"] for r in pages) <= 30)} |

First visit: {parts}.
"""
        )
        versus = repeat(
            "push vs polling", lambda: scenarios.push_vs_polling(pubsub, fresh(), 500, 30, 5)
        )
        # A window's CPU minus the changes-alone window is below the noise when a run
        # gives a negative cost: no verdict can honestly be drawn from such runs.
        if all(r["poll_cpu_ms_per_watcher_minute"] > 0 for r in versus):
            ratio = statistics.median(r["ratio"] for r in versus)
            cheaper = f"{verdict(ratio >= 10)} (×{med(versus, 'ratio')})"
        else:
            cheaper = "**not measured**: a run's cost fell below the noise (negative)"
        out.append(
            f"""
## 6. Push vs polling (500 watchers, each order changes once in 30 s)

Two Daphne processes on PostgreSQL + Redis Pub/Sub: the tablets write through one,
the watchers are served by the other. Watching costs the watchers' process's CPU
in a window minus its CPU in a window with the same changes and no watchers.

| measure | polling every 5 s | push | target |
|---|---|---|---|
| server CPU ms per watcher-minute | {med(versus, "poll_cpu_ms_per_watcher_minute")} | {med(versus, "push_cpu_ms_per_watcher_minute")} | push ≥ 10× cheaper: {cheaper} |
| mean staleness s | {med(versus, "poll_staleness_s", "{:.2f}")} | {med(versus, "push_staleness_s", "{:.3f}")} | push < 0.1 s: {verdict(statistics.median(r["push_staleness_s"] for r in versus) < 0.1)} |

Per run, the watchers' process's CPU s in the three windows (no watchers, polling,
push): {"; ".join(", ".join(f"{c:.2f}" for c in r["served_cpu_s"]) for r in versus)}.
The writers' process spent {"; ".join(", ".join(f"{c:.1f}" for c in r["writer_cpu_s"]) for r in versus)}
(the changes' own cost). Pushed fragments seen:
{", ".join(f"{r['pushed']:,} of {r['changes']:,}" for r in versus)}.
"""
        )
    out.append(numbers_section(memory))
    out.append(
        """
## Channel layer alone: Redis core vs Redis Pub/Sub (`bench/layers.py`)

"""
        + layers.run()
    )
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = INTRO.format(
        date=date, minutes=(time.time() - began) / 60, machine=machine(), repeat=REPEAT
    )
    text += "".join(out)
    target = ROOT / "docs" / "BENCHMARKS.md"
    notes = ROOT / "bench" / "NOTES.md"
    if notes.exists():
        text += "\n" + notes.read_text()
    target.write_text(text)
    print(text)
    print(f"written to {target.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
