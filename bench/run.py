# ruff: noqa: E501 (Markdown tables are written line by line)
"""Run every benchmark and write docs/BENCHMARKS.md, the capacity guide (make bench).

Benchmarks start their own PostgreSQL, Redis and Daphne on free local ports, drive
them from separate load processes and stop everything by themselves. Sizes can be
lowered for a quick look: BENCH_SOCKETS, BENCH_BIG, BENCH_REPEAT, BENCH_RATE.
Lab notes (history, profiles, A/B runs) are kept by hand in bench/NOTES.md.
"""

import datetime
import json
import math
import os
import statistics
import subprocess
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
REPEAT = int(os.environ.get("BENCH_REPEAT", "2"))
RATE = int(os.environ.get("BENCH_RATE", "100"))
SHOP_ORDERS = 30  # a busy shop's open orders: what one board shows
BIG_BOARD = 1000  # a board far beyond a busy shop's
NUMBERS_ORDERS = int(os.environ.get("BENCH_NUMBERS_ORDERS", "100000"))

INTRO = """# Capacity guide

How much one Tracker process holds, and two behind Redis, measured by `make bench`
on {date} at commit {commit} ({minutes:.0f} min), on {machine}.

Every figure stands beside the same measurement of **the stack alone**: Daphne,
Channels and Django serving a page, a socket and a staff tap that do no Tracker
work (`bench/bare.py`), measured in the same run. The **ratio** is Tracker's figure
divided by the stack's. This machine is small and shared, so absolute figures move
by up to 2× from one run to the next; the ratios carry over to your machine far
better than the figures do. For rates (per second) a ratio below 1× means slower
than the stack alone; for times and sizes, above 1× does.

The server runs with production settings (DEBUG off, no access log, the worker
`make serve` starts), on its own PostgreSQL and Redis. The load runs on the same
two cores, so every figure is conservative. {runs}

Reproduce: `make bench` (it needs PostgreSQL's and Redis's server programs
installed, and starts its own on free ports). Lab notes, history and profiles:
`bench/NOTES.md`.
"""


def values(runs: list[dict], key: str) -> list[float]:
    return [r[key] for r in runs if not (isinstance(r[key], float) and math.isnan(r[key]))]


def median(runs: list[dict], key: str) -> float | None:
    found = values(runs, key)
    return statistics.median(found) if found else None


def show(runs: list[dict], key: str, fmt: str = "{:,.1f}") -> str:
    """The median, with the range when there are several runs; "—" when no run
    produced the figure (then the reason is in the row's text)."""
    found = values(runs, key)
    if not found:
        return "—"
    if len(found) == 1:
        return fmt.format(found[0])
    low, high = fmt.format(min(found)), fmt.format(max(found))
    return f"{fmt.format(statistics.median(found))} ({low}–{high})"


def mid(runs: list[dict], key: str, fmt: str = "{:,.0f}") -> str:
    """The median alone, for prose."""
    value = median(runs, key)
    return "—" if value is None else fmt.format(value)


def ratio(runs: list[dict], bare: list[dict], key: str) -> str:
    ours, theirs = median(runs, key), median(bare, key)
    if ours is None or not theirs:
        return "—"
    return f"{ours / theirs:.2f}×"


def goal(text: str, ok: bool | None) -> str:
    if ok is None:
        return text
    return f"{text}: {'met' if ok else '**missed**'}"


def row(
    label: str,
    runs: list[dict],
    bare: list[dict],
    key: str,
    fmt: str = "{:,.1f}",
    target: str = "",
    ok: Callable[[float], bool] | None = None,
    ok_ratio: Callable[[float], bool] | None = None,
) -> str:
    """A table row; `ok` judges Tracker's median, `ok_ratio` its ratio to the stack's."""
    value, theirs = median(runs, key), median(bare, key)
    judged = None
    if ok is not None and value is not None:
        judged = ok(value)
    elif ok_ratio is not None and value is not None and theirs:
        judged = ok_ratio(value / theirs)
    verdict = goal(target, judged) if target else ""
    return f"| {label} | {show(runs, key, fmt)} | {show(bare, key, fmt)} | {ratio(runs, bare, key)} | {verdict} |"


TABLE = "| measure | Tracker | the stack alone | ratio | goal |\n|---|---|---|---|---|\n"


def repeat(name: str, scenario: Callable[[], dict]) -> list[dict]:
    """The scenario's figures from REPEAT runs, saying on stderr how far the bench is."""
    runs = []
    for k in range(REPEAT):
        began = time.time()
        runs.append(scenario())
        print(f"bench: {name} {k + 1}/{REPEAT} in {time.time() - began:.0f} s", file=sys.stderr)
    return runs


def side_by_side(
    name: str, tracker: Callable[[], dict], bare: Callable[[], dict]
) -> tuple[list[dict], list[dict]]:
    """REPEAT runs of Tracker and of the stack alone, taken in turn (Tracker, the
    stack alone, Tracker…), so a box that slows down or speeds up during the bench
    weighs on both sides alike; (Tracker's runs, the stack alone's)."""
    ours, theirs = [], []
    for k in range(REPEAT):
        for side, runs, scenario in (("", ours, tracker), (", the stack alone", theirs, bare)):
            began = time.time()
            runs.append(scenario())
            print(
                f"bench: {name}{side} {k + 1}/{REPEAT} in {time.time() - began:.0f} s",
                file=sys.stderr,
            )
    return ours, theirs


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "(not a git checkout)"


def numbers_section(env: dict) -> str:
    """The owner's numbers on a big shop (`bench/numbers.py`), PostgreSQL."""
    r = json.loads(_run(env, "-m", "bench.numbers", str(NUMBERS_ORDERS)).strip().splitlines()[-1])
    rows = "\n".join(
        f"| {label} | {r[f'{key}_orders']:,} | {r[f'{key}_queries']} | {r[f'{key}_ms']:,.0f} |"
        for key, label in (("today", "today"), ("7d", "7 days"), ("30d", "30 days"))
    )
    return f"""
## 7. The owner's numbers page (PostgreSQL)

One shop with {r["orders"]:,} orders over 30 days, each with its full history. The
console reads a period in a fixed number of queries whatever the shop's size; the
time is the whole page's computation (queries, medians, percentiles), in one
process. It is a report, not a request path, so there is no stack-alone figure.

| period | orders in it | queries | ms |
|---|---|---|---|
{rows}
"""


def main() -> int:
    raise_fd_limit()
    began = time.time()
    out = []
    with throwaway_postgres() as database, throwaway_redis() as redis:
        memory = production_env(database)
        pubsub = production_env(database, redis, "pubsub")
        shops = -(-max(SOCKETS // 2, BIG) // SHOP_ORDERS) + 1
        seed = prepare(memory, shops, SHOP_ORDERS)

        def fresh() -> dict:  # versions move on with every run
            return prepare(memory, shops, SHOP_ORDERS, setup=False)

        # 1. Open tracking pages and restarts, one process.
        idle, bare = side_by_side(
            "idle and storm",
            lambda: scenarios.idle_and_storm(memory, fresh(), SOCKETS),
            lambda: scenarios.idle_and_storm(memory, fresh(), SOCKETS, BARE),
        )
        stop = repeat(
            "stop, stock Daphne",
            lambda: scenarios.stop_time(memory, fresh(), SOCKETS, stock_daphne=True),
        )
        for runs in (idle, bare):
            for r in runs:
                r["rss_mb"] = r["rss_baseline_mb"] + r["kb_per_socket"] * r["held"] / 1024
        out.append(
            f"""
## 1. Open tracking pages (one process)

{SOCKETS:,} pages hold a socket each to one server process, then the process is
restarted (as a deploy does) and every page reconnects with its backoff and
resyncs. The stack alone's socket joins its group and sends a fixed 3 KB fragment.

{TABLE}{row("sockets held", idle, bare, "held", "{:,.0f}", f"≥ {SOCKETS:,}", lambda v: v >= SOCKETS)}
{row("memory of the process with all of them, MB", idle, bare, "rss_mb", "{:,.0f}")}
{row("memory per socket, KB (idle process subtracted)", idle, bare, "kb_per_socket", "{:,.1f}", "≤ 30", lambda v: v <= 30)}
{row("connects per second, first state included", idle, bare, "connects_per_s", "{:,.0f}", "≥ 1,000", lambda v: v >= 1000)}
{row("server CPU ms per connect", idle, bare, "cpu_ms_per_connect", "{:.2f}")}
{row("restart: seconds until every page is back and current", idle, bare, "storm_seconds", "{:.1f}", "≤ 30", lambda v: v <= 30)}
{row("restart: pages back", idle, bare, "storm_back", "{:,.0f}", "all")}
{row("restart: seconds to stop (SIGTERM until exit)", idle, bare, "storm_stop_s", "{:.1f}")}
{row("restart: seconds to start, warmed up", idle, bare, "storm_start_s", "{:.1f}")}
{row("restart: 5xx answers", idle, bare, "storm_5xx", "{:,.0f}", "0", lambda v: v == 0)}

**The stop.** Tracker's worker (`tracker/worker.py`, started by `make serve`)
tells every page "service restart" (4012) and ends once every socket is closed
and every request answered. Stock `python -m daphne` with the same options and
{mid(stop, "held")} sockets open took **{mid(stop, "stop_s", "{:.1f}")} s** to stop in this run,
against {mid(idle, "storm_stop_s", "{:.1f}")} s; pages cannot reconnect to the next process until
the old one has gone.
"""
        )

        # 2. A change reaching its watchers.
        layouts = (
            ("one process, in-memory layer", memory, 1),
            ("two processes, Redis Pub/Sub", pubsub, 2),
        )
        rows = []
        for label, env, procs in layouts:
            small, bare_small = side_by_side(
                f"push latency, {label}",
                *(
                    lambda env=env, procs=procs, app=app: scenarios.push_latency(
                        env, fresh(), SOCKETS, RATE, 5, procs, app
                    )
                    for app in (APPLICATION, BARE)
                ),
            )
            big, bare_big = side_by_side(
                f"one big order, {label}",
                *(
                    lambda env=env, procs=procs, app=app: scenarios.one_big_order(
                        env, fresh(), BIG, 5, procs, app
                    )
                    for app in (APPLICATION, BARE)
                ),
            )
            rows.append(
                f"**{label}**\n\n{TABLE}"
                + "\n".join(
                    (
                        row(f"(a) {SOCKETS:,} pages: p50 ms", small, bare_small, "p50_ms"),
                        row(
                            f"(a) {SOCKETS:,} pages: p99 ms",
                            small,
                            bare_small,
                            "p99_ms",
                            "{:,.1f}",
                            "≤ 50",
                            lambda v: v <= 50,
                        ),
                        row(
                            "(a) changes missed",
                            small,
                            bare_small,
                            "missing",
                            "{:,.0f}",
                            "0",
                            lambda v: v == 0,
                        ),
                        row(
                            f"(b) {BIG:,} pages on one order: all have it, p99 ms",
                            big,
                            bare_big,
                            "p99_ms",
                            "{:,.1f}",
                            "≤ 500",
                            lambda v: v <= 500,
                        ),
                        row(
                            "(c) deliveries per second",
                            big,
                            bare_big,
                            "deliveries_per_s",
                            "{:,.0f}",
                            "≥ 5,000",
                            lambda v: v >= 5000,
                        ),
                    )
                )
            )
        out.append(
            f"""
## 2. A change reaching the pages that watch it

Latency runs from the moment a tablet sends the tap (write and commit included)
to the moment a watching page has the new state. (a) {SOCKETS:,} pages in
order-sized groups (1–3 pages per order), {RATE} taps per second for 5 s. (b)
{BIG:,} pages watching ONE order, one tap a second. (c) Deliveries per second
while that order is tapped back to back. The stack alone pushes a fixed fragment.

"""
            + "\n\n".join(rows)
            + "\n"
        )

        # 3. Staff taps and the board.
        writes, bare_writes = side_by_side(
            "write throughput",
            lambda: scenarios.write_throughput(pubsub, fresh(), 10, 2, 16),
            lambda: scenarios.write_throughput(pubsub, fresh(), 10, 2, 16, BARE),
        )
        big_board = prepare(memory, 1, BIG_BOARD, setup=False, prefix="bench-big")
        busy = fresh()  # its first SHOP_ORDERS orders are the first shop's
        boards = scenarios.board_sizes(
            memory,
            {"bench-0": {**busy, "orders": busy["orders"][:SHOP_ORDERS]}, "bench-big-0": big_board},
        )
        small_board, large_board = boards["bench-0"], boards["bench-big-0"]
        out.append(
            f"""
## 3. Staff taps (two processes, PostgreSQL and Redis Pub/Sub)

16 tablets tap as fast as they are answered (advance, undo, advance…) for 10 s.
The stack alone's tap is signed in, CSRF-checked, locks the row, checks the
version, updates it, records an event, commits and pushes a fixed fragment; it
renders nothing, answers nothing but that fragment and has no rules to apply.

{TABLE}{row("taps per second", writes, bare_writes, "advances_per_s", "{:,.1f}", "≥ 0.8×", ok_ratio=lambda r: r >= 0.8)}
{row("a tap's answer, p50 ms", writes, bare_writes, "p50_ms")}
{row("a tap's answer, p99 ms", writes, bare_writes, "p99_ms", "{:,.1f}", "≤ 1.5×", ok_ratio=lambda r: r <= 1.5)}
{row("errors", writes, bare_writes, "errors", "{:,.0f}", "0", lambda v: v == 0)}

**A tap costs the same on a big board.** What one tap sends to each of the shop's
other tablets is its own tile, not the board (one process, measured once):

| open orders on the board | a tablet connects: whole board, KB (messages, largest KB) | first message, s | a tap's answer, KB | pushed to other tablets, KB |
|---|---|---|---|---|
| {small_board["open"]:,} | {small_board["connect_kb"]:,.1f} ({small_board["connect_frames"]}, {small_board["largest_frame_kb"]:,.1f}) | {small_board["first_frame_s"]:.2f} | {small_board["answer_kb"]:.2f} | {small_board["push_kb"]:.2f} |
| {large_board["open"]:,} | {large_board["connect_kb"]:,.1f} ({large_board["connect_frames"]}, {large_board["largest_frame_kb"]:,.1f}) | {large_board["first_frame_s"]:.2f} | {large_board["answer_kb"]:.2f} | {large_board["push_kb"]:.2f} |

A board is sent in messages of a few hundred tiles, each far below Daphne's 1 MiB
message limit, so a board of any size connects.
"""
        )

        # 4. The tracking page.
        pages, bare_pages = side_by_side(
            "tracking page",
            lambda: scenarios.page(memory, seed, 2000, 8),
            lambda: scenarios.page(memory, seed, 2000, 8, BARE),
        )
        parts = ", ".join(f"{k} {v / 1024:.1f} KB" for k, v in pages[0]["parts"].items())
        out.append(
            f"""
## 4. The tracking page (one process)

One visitor alone, then 8 at once. With 8, a request also waits for the ones
ahead of it: one process runs Python on one core. The stack alone's page reads
the order's version by its token and sends a fixed 6 KB page.

{TABLE}{row("one visitor: p50 ms", pages, bare_pages, "alone_p50_ms", "{:.1f}", "≤ 10", lambda v: v <= 10)}
{row("one visitor: p99 ms", pages, bare_pages, "alone_p99_ms")}
{row("8 visitors: p50 ms", pages, bare_pages, "p50_ms")}
{row("8 visitors: p99 ms", pages, bare_pages, "p99_ms")}
{row("pages per second", pages, bare_pages, "pages_per_s", "{:,.0f}")}
| first visit, compressed KB | {show(pages, "first_visit_kb")} | | | {goal("≤ 30", median(pages, "first_visit_kb") <= 30)} |

A first visit downloads: {parts}. Later visits use the cached assets.
"""
        )

        # 5. Push against polling.
        versus = repeat(
            "push vs polling", lambda: scenarios.push_vs_polling(pubsub, fresh(), 500, 30, 5)
        )
        # A window's CPU minus the changes-alone window falls below the noise when a
        # run gives a negative cost: no factor can honestly be drawn from such runs.
        if all(r["poll_cpu_ms_per_watcher_minute"] > 0 for r in versus):
            cheaper = f"Push costs ×{show(versus, 'ratio')} less CPU per page than polling"
        else:
            cheaper = "No factor is given for this run: a window's cost fell below the noise"
        out.append(
            f"""
## 5. Pushing instead of polling (two processes, Redis Pub/Sub)

500 pages watch 500 orders; each order changes once in 30 s. The tablets write
through one process, the pages are served by the other; watching costs that
process's CPU minus its CPU over a window with the same changes and no pages.

| measure | polling every 5 s | push |
|---|---|---|
| server CPU ms per page-minute | {show(versus, "poll_cpu_ms_per_watcher_minute")} | {show(versus, "push_cpu_ms_per_watcher_minute")} |
| how stale a page is, mean s | {show(versus, "poll_staleness_s", "{:.2f}")} | {show(versus, "push_staleness_s", "{:.3f}")} |

{cheaper}, and a pushed page is current within {mid(versus, "push_staleness_s", "{:.3f}")} s.
Pushed changes seen:
{", ".join(f"{r['pushed']:,} of {r['changes']:,}" for r in versus)}.
"""
        )
        out.append(
            f"""
## 6. Choosing the channel layer (layer alone, no Daphne)

Redis Pub/Sub is the default: one PUBLISH per change reaches every process, and
its subscriptions survive a burst of connects. The core layer (CHANNEL_LAYER=core)
did not survive a burst of concurrent joins here.

{layers.run()}"""
        )
        out.append(numbers_section(memory))
        # `big` is the last layout's: two processes behind Redis.
        out.insert(
            0,
            f"""
## At a glance

| you run | it holds (this machine) |
|---|---|
| one process | {mid(idle, "held", "{:,.0f}")} open tracking pages in {mid(idle, "rss_mb", "{:,.0f}")} MB; all back and current {mid(idle, "storm_seconds", "{:.0f}")} s after a restart; a tracking page in {mid(pages, "alone_p50_ms", "{:.0f}")} ms, {mid(pages, "pages_per_s", "{:,.0f}")} pages/s |
| two processes, PostgreSQL and Redis | {mid(writes, "advances_per_s", "{:,.0f}")} staff taps/s; one order watched by {BIG:,} pages reaches them all within {mid(big, "p99_ms", "{:,.0f}")} ms (p99), {mid(big, "deliveries_per_s", "{:,.0f}")} deliveries/s |
| more | add processes behind Redis on more cores or boxes (docs/DEPLOY.md); pages and taps spread across them |

A busy shop makes a few taps a minute per tablet and has tens of pages open, so
one small box serves many shops; the sections below say where each limit is.
""",
        )
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    runs = f"Medians of {REPEAT} runs, the range in brackets." if REPEAT > 1 else "One run each."
    text = INTRO.format(
        date=date,
        commit=commit(),
        minutes=(time.time() - began) / 60,
        machine=machine(),
        runs=runs,
    )
    text += "".join(out)
    target = ROOT / "docs" / "BENCHMARKS.md"
    target.write_text(text)
    print(text)
    print(f"written to {target.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
