# ruff: noqa: S310 (urlopen of our own http://127.0.0.1 server only)
"""The measurements of docs/BENCHMARKS.md, one function each; figures in a dict.

Every scenario starts the app itself (production settings, access log off), drives
it from separate load processes on 127.0.0.1 and stops everything afterwards.
Latency is measured from the moment the tablet SENDS the advance (so it includes
the write and its commit) to the moment a watcher has the new fragment.
`application`: which ASGI app the Daphne workers serve; bench.bare's measures the
settled stack alone, the same way.
"""

import gzip
import http.client
import os
import re
import time
import urllib.request

from tracker.serve import APPLICATION

from .app import Workers
from .common import pct
from .load import WatcherPool, run_tablets, staff_headers


def ws_urls(base: str, tokens: list[str]) -> list[str]:
    return [base.replace("http", "ws", 1) + f"/ws/t/{token}/?lang=en" for token in tokens]


def watchers_for(orders: list, count: int, sizes: tuple = (1, 2, 3)) -> tuple[list, list]:
    """`count` watcher tokens over orders, 1-3 watchers per order; the orders used."""
    tokens, used = [], []
    k = 0
    while len(tokens) < count:
        pk, token, version = orders[k]
        n = min(sizes[k % len(sizes)], count - len(tokens))
        tokens += [token] * n
        used.append((pk, token, version, n))
        k += 1
    return tokens, used


def idle_and_storm(env: dict, seed: dict, sockets: int, application: str = APPLICATION) -> dict:
    """1. idle capacity and RSS per socket; 2. connect rate and a reconnect storm."""
    workers = Workers(env, 1, application)
    workers.start()
    try:
        baseline = workers.rss_kb()
        tokens, _ = watchers_for(seed["orders"], sockets)
        pool = WatcherPool(ws_urls(workers.base, tokens), workers.base)
        cpu = workers.cpu_seconds()
        held, start, last, errors = pool.connect(reconnect=True)
        cpu = workers.cpu_seconds() - cpu
        time.sleep(2)  # let allocator and GC settle before reading RSS (a measurement pause)
        rss = workers.rss_kb()
        figures = {
            "held": held,
            "rss_baseline_mb": baseline / 1024,
            "kb_per_socket": (rss - baseline) / max(held, 1),
            "connects_per_s": held / max(last - start, 1e-9),
            "cpu_ms_per_connect": cpu * 1000 / max(held, 1),
            "connect_errors": errors["5xx"] + errors["other"],
        }
        # The storm: the process restarts, every page reconnects with its backoff.
        dropped_at = time.time()
        workers.stop()
        stopped_at = time.time()
        workers.start()
        started_at = time.time()
        back, last_back, errors = pool.storm_wait(dropped_at)
        figures.update(
            storm_back=back,
            storm_seconds=last_back - dropped_at,
            # Its parts: SIGTERM until the process exited; until the new one answered
            # (warm-up included; it accepts reconnects meanwhile); the rest.
            storm_stop_s=stopped_at - dropped_at,
            storm_start_s=started_at - stopped_at,
            storm_after_start_s=max(last_back - started_at, 0.0),
            storm_5xx=errors["5xx"],
        )
        pool.close()
        return figures
    finally:
        workers.close()


def stop_time(env: dict, seed: dict, sockets: int, stock_daphne: bool) -> dict:
    """How long one process takes to stop (SIGTERM until exit) with these sockets open:
    Tracker's worker (tracker/worker.py) or stock Daphne, same options and app."""
    workers = Workers(env, 1, stock_daphne=stock_daphne)
    workers.start()
    try:
        tokens, _ = watchers_for(seed["orders"], sockets)
        pool = WatcherPool(ws_urls(workers.base, tokens), workers.base)
        held, _start, _last, _errors = pool.connect()
        began = time.time()
        workers.stop()
        stop_s = time.time() - began
        pool.close()
        return {"held": held, "stop_s": stop_s}
    finally:
        workers.close()


def board_sizes(env: dict, shops: dict[str, dict]) -> dict:
    """What a staff board costs on the wire: the whole board a tablet gets when it
    connects, a tap's answer, and what that tap pushes to the shop's other tablets,
    for each {slug: seed} given (shops of different sizes). One process."""
    import asyncio

    import websockets

    workers = Workers(env, 1)
    workers.start()
    try:
        figures = {}
        for slug, seed in shops.items():
            cookie = f"sessionid={seed['session']}; csrftoken={seed['csrf']}"

            async def measure(slug: str = slug, seed: dict = seed, cookie: str = cookie) -> dict:
                url = f"ws://127.0.0.1:{workers.port}/ws/staff/{slug}/"
                headers = {"Cookie": cookie, "Origin": workers.base}
                began = time.perf_counter()
                async with websockets.connect(
                    url, additional_headers=headers, max_size=None
                ) as board:
                    # The whole board: its first tiles, then the rest in messages of
                    # a few hundred tiles each (orders/board.py, render_board).
                    frames = [await asyncio.wait_for(board.recv(), 30)]
                    first_s = time.perf_counter() - began
                    pk, _token, version = seed["orders"][0]
                    answer = await asyncio.to_thread(_tap, workers.port, seed, pk, version)
                    # The tap's push to this tablet: its tile alone (_change.html).
                    marker = f'<div id="order-{pk}" data-version="{version + 1}"'
                    while not (frame := await asyncio.wait_for(board.recv(), 30)).startswith(
                        marker
                    ):
                        frames.append(frame)  # the rest of the board, sent before it
                    push = frame
                return {
                    "open": len(seed["orders"]),
                    "connect_kb": sum(len(f) for f in frames) / 1024,
                    "connect_frames": len(frames),
                    "largest_frame_kb": max(len(f) for f in frames) / 1024,
                    "first_frame_s": first_s,
                    "answer_kb": len(answer) / 1024,
                    "push_kb": len(push) / 1024,
                }

            figures[slug] = asyncio.run(measure())
        return figures
    finally:
        workers.close()


def _tap(port: int, seed: dict, pk: int, version: int) -> bytes:
    """One advance through the staff endpoint, as a tablet sends it; its answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(
        "POST",
        f"/staff/orders/{pk}/advance/",
        body=f"version={version}",
        headers=staff_headers(seed["session"], seed["csrf"]),
    )
    response = conn.getresponse()
    body = response.read()
    conn.close()
    if response.status != 200:
        raise SystemExit(f"bench: a tap answered {response.status}")
    return body


def push_latency(
    env: dict,
    seed: dict,
    sockets: int,
    rate: int,
    seconds: int,
    procs: int,
    application: str = APPLICATION,
) -> dict:
    """3a. order-sized groups with `sockets` connected and `rate` advances/s."""
    workers = Workers(env, procs, application)
    workers.start()
    try:
        tokens, used = watchers_for(seed["orders"], sockets)
        pool = WatcherPool(ws_urls(workers.base, tokens), workers.base)
        held, *_ = pool.connect()
        pool.arrivals()  # drop the snapshots
        watchers_of = {pk: n for pk, _token, _version, n in used}
        total = rate * seconds
        # The orders with the most stages left (earlier runs moved some on).
        roomy = sorted(used, key=lambda u: u[2])[:total]
        chosen = [(pk, version) for pk, _, version, _ in roomy]
        threads = 8
        start = time.time() + 1
        jobs = []
        for t in range(threads):
            mine = chosen[t::threads]
            plan = [(start + (t + k * threads) / rate, pk) for k, (pk, _) in enumerate(mine)]
            jobs.append((mine, plan))
        requests = run_tablets(workers.port, seed["session"], seed["csrf"], [jobs[:4], jobs[4:]])
        time.sleep(1)  # the last pushes are in flight (a drain pause, not an assertion)
        arrivals = pool.arrivals()
        pool.close()
        return latency_figures(requests, arrivals, tokens, seed, held, watchers_of)
    finally:
        workers.close()


def latency_figures(requests, arrivals, tokens, seed, held, watchers_of) -> dict:  # noqa: ANN001
    token_pk = {token: pk for pk, token, _ in seed["orders"]}
    first_seen: dict[tuple[int, int], float] = {}
    for watcher, version, at in arrivals:
        key = (token_pk[tokens[watcher]], version, watcher)
        first_seen.setdefault(key, at)
    by_change: dict[tuple[int, int], list[float]] = {}
    for (pk, version, _watcher), at in first_seen.items():
        by_change.setdefault((pk, version), []).append(at)
    all_delivered, per_watcher, missing = [], [], 0
    for pk, version, sent, _done, status in requests:
        if status != 200:
            continue
        seen = by_change.get((pk, version), [])
        missing += watchers_of[pk] - len(seen)
        per_watcher += [at - sent for at in seen]
        if len(seen) == watchers_of[pk]:
            all_delivered.append(max(seen) - sent)
    times = [done - sent for _, _, sent, done, _ in requests]
    return {
        "held": held,
        "advances": sum(r[4] == 200 for r in requests),
        "refused": sum(r[4] != 200 for r in requests),
        "p50_ms": pct(all_delivered, 0.5) * 1000 if all_delivered else float("nan"),
        "p99_ms": pct(all_delivered, 0.99) * 1000 if all_delivered else float("nan"),
        "missing": missing,
        "request_p99_ms": pct(times, 0.99) * 1000,
    }


def one_big_order(
    env: dict, seed: dict, watchers: int, advances: int, procs: int, application: str = APPLICATION
) -> dict:
    """3b. `watchers` sockets on ONE order; 3c. deliveries per second while it fans out."""
    workers = Workers(env, procs, application)
    workers.start()
    try:
        pk, token, version = min(seed["orders"], key=lambda o: o[2])  # a fresh one
        tokens = [token] * watchers
        pool = WatcherPool(ws_urls(workers.base, tokens), workers.base)
        held, *_ = pool.connect()
        pool.arrivals()
        # One advance a second: each fan-out finishes before the next (3b) ...
        plan = [(time.time() + 1 + k, pk) for k in range(advances)]
        requests = run_tablets(
            workers.port, seed["session"], seed["csrf"], [[([(pk, version)], plan)]]
        )
        time.sleep(1)
        arrivals = pool.arrivals()
        figures = latency_figures(requests, arrivals, tokens, seed, held, {pk: watchers})
        per = [
            at - sent
            for _, v, sent, _, s in requests
            if s == 200
            for at in [a for _, av, a in arrivals if av == v]
        ]
        figures["watcher_p99_ms"] = pct(per, 0.99) * 1000 if per else float("nan")
        # ... then back to back, as fast as the tablet is answered (3c).
        version += advances
        plan = [(None, pk)] * (advances * 2)
        began = time.time()
        requests = run_tablets(
            workers.port, seed["session"], seed["csrf"], [[([(pk, version)], plan)]]
        )
        time.sleep(1)
        arrivals = pool.arrivals()
        pool.close()
        ok = {v for p, v, _, _, s in requests if s == 200}
        delivered = [a for _, v, a in arrivals if v in ok]
        figures["deliveries_per_s"] = (
            len(delivered) / max(max(delivered) - began, 1e-9) if delivered else 0.0
        )
        return figures
    finally:
        workers.close()


def write_throughput(
    env: dict, seed: dict, seconds: int, procs: int, tablets: int, application: str = APPLICATION
) -> dict:
    """4. advances/s through the staff endpoint, closed loop, broadcasts on."""
    workers = Workers(env, procs, application)
    workers.start()
    try:
        orders = [(pk, version) for pk, _, version in seed["orders"][: tablets * 4]]
        deadline = time.time() + seconds
        jobs = []
        for t in range(tablets):
            mine = orders[t::tablets]
            jobs.append((mine, [(None, mine[k % len(mine)][0]) for k in range(100_000)]))
        half = tablets // 2
        results = run_tablets(
            workers.port, seed["session"], seed["csrf"], [jobs[:half], jobs[half:]], until=deadline
        )
        ok = [r for r in results if r[4] == 200]
        span = max(r[3] for r in results) - min(r[2] for r in results)
        times = [r[3] - r[2] for r in results]
        return {
            "advances_per_s": len(ok) / span,
            "p50_ms": pct(times, 0.5) * 1000,
            "p99_ms": pct(times, 0.99) * 1000,
            "errors": len(results) - len(ok),
        }
    finally:
        workers.close()


def page(
    env: dict, seed: dict, requests: int, concurrency: int, application: str = APPLICATION
) -> dict:
    """5. the tracking page: response time under concurrent load, bytes on a first visit."""
    import threading

    workers = Workers(env, 1, application)
    workers.start()
    try:
        token = seed["orders"][0][1]
        path = f"/t/{token}/"
        times: list[float] = []
        lock = threading.Lock()

        def client(n: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", workers.port, timeout=30)
            for _ in range(n):
                t0 = time.perf_counter()
                conn.request("GET", path, headers={"Accept-Language": "en"})
                conn.getresponse().read()
                with lock:
                    times.append(time.perf_counter() - t0)
            conn.close()

        # One client alone first: a request's own time, with nothing queued before it.
        client(requests // 4)
        alone, times[:] = list(times), []
        threads = [
            threading.Thread(target=client, args=(requests // concurrency,))
            for _ in range(concurrency)
        ]
        began = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - began
        # Bytes of a first visit: the page and every asset it links, compressed.
        total, parts = 0, {}
        html = fetch_compressed(workers.base + path, parts)
        for asset in re.findall(r'(?:href|src)="(/static/[^"]+)"', html):
            fetch_compressed(workers.base + asset, parts)
        total = sum(parts.values())
        return {
            "alone_p50_ms": pct(alone, 0.5) * 1000,
            "alone_p99_ms": pct(alone, 0.99) * 1000,
            "p50_ms": pct(times, 0.5) * 1000,
            "p99_ms": pct(times, 0.99) * 1000,
            "pages_per_s": len(times) / elapsed,
            "first_visit_kb": total / 1024,
            "parts": parts,
        }
    finally:
        workers.close()


def fetch_compressed(url: str, parts: dict) -> str:
    request = urllib.request.Request(
        url, headers={"Accept-Encoding": "br, gzip", "Accept-Language": "en"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
        encoding = response.headers.get("Content-Encoding", "")
    parts[url.rsplit("/", 1)[-1] or "page"] = len(body)
    if encoding == "br":
        import brotli

        return brotli.decompress(body).decode()
    if encoding == "gzip":
        return gzip.decompress(body).decode()
    return body.decode()


def push_vs_polling(env: dict, seed: dict, watchers: int, seconds: int, every: float) -> dict:
    """6. The same watchers and the same changes: polled every `every` s, or pushed.

    Two Daphne processes behind Redis, as in production: the tablets write through
    one, the watchers are served by the other, whose CPU is what watching costs.
    (On one process the changes' own CPU varied more from window to window than
    500 pushed watchers cost: the difference was inside the noise.)

    Three windows of equal length with the same change schedule (each watched
    order changes once), after a warm-up: no watchers (the watchers' process
    idle), polling, push. Watching costs the window's CPU on the watchers'
    process minus the first window's.
    """
    from .load import collect, run_pollers

    writer, server = Workers(env, 1), Workers(env, 1)
    writer.start()
    server.start()
    try:
        orders = sorted(seed["orders"], key=lambda o: o[2])[: watchers * 3 + 50]
        windows = [orders[k * watchers : (k + 1) * watchers] for k in range(3)]
        length = seconds + every  # every window, so idle time costs the same in each

        def changes(chosen: list) -> tuple[list, float]:
            start = time.time() + 0.5
            rate = len(chosen) / seconds
            jobs = []
            for t in range(4):
                mine = [(pk, v) for pk, _, v in chosen[t::4]]
                plan = [(start + (t + 4 * k) / rate, pk) for k, (pk, _) in enumerate(mine)]
                jobs.append((mine, plan))
            return jobs, start

        def until(end: float) -> None:
            time.sleep(max(0.0, end - time.time()))  # the window's fixed length (not a wait)

        def cpu() -> tuple[float, float]:
            return server.cpu_seconds(), writer.cpu_seconds()

        def spent(before: tuple[float, float]) -> tuple[float, float]:
            return tuple(now - then for now, then in zip(cpu(), before, strict=True))

        # Warm-up: templates, caches and database connections of fresh processes.
        warm = orders[watchers * 3 :]
        pool = WatcherPool(ws_urls(server.base, [t for _, t, _ in warm]), server.base, 1)
        pool.connect()
        run_tablets(
            writer.port,
            seed["session"],
            seed["csrf"],
            [[([(pk, v) for pk, _, v in warm], [(None, pk) for pk, _, _ in warm])]],
        )
        paths = [f"/t/{t}/progress/" for _, t, _ in warm]
        collect(*run_pollers(server.port, paths, 1, time.time() + 1))  # each page once
        pool.close()
        windows_cpu = []
        # 0: the changes alone.
        jobs, start = changes(windows[0])
        before = cpu()
        run_tablets(writer.port, seed["session"], seed["csrf"], [jobs])
        until(start + length)
        windows_cpu.append(spent(before))
        # a: polling pages.
        chosen = windows[1]
        paths = [f"/t/{token}/progress/" for _, token, _ in chosen]
        jobs, start = changes(chosen)
        pipes, procs = run_pollers(server.port, paths, every, start + length)
        before = cpu()
        requests = run_tablets(writer.port, seed["session"], seed["csrf"], [jobs])
        until(start + length)
        windows_cpu.append(spent(before))
        seen = collect(pipes, procs)
        sent = {f"/t/{token}/progress/": None for _, token, _ in chosen}
        by_pk = {pk: token for pk, token, _ in chosen}
        for pk, version, at, _done, status in requests:
            if status == 200:
                sent[f"/t/{by_pk[pk]}/progress/"] = (version, at)
        stale_poll = []
        for path, (version, at) in ((p, s) for p, s in sent.items() if s):
            first = min((t for p, v, t in seen if p == path and v >= version), default=None)
            if first is not None:
                stale_poll.append(first - at)
        # b: push.
        chosen = windows[2]
        tokens = [token for _, token, _ in chosen]
        pool = WatcherPool(ws_urls(server.base, tokens), server.base, processes=2)
        pool.connect()
        pool.arrivals()
        jobs, start = changes(chosen)
        before = cpu()
        requests = run_tablets(writer.port, seed["session"], seed["csrf"], [jobs])
        until(start + length)
        windows_cpu.append(spent(before))
        arrivals = pool.arrivals()
        pool.close()
        index = {(tokens[i], v): t for i, v, t in arrivals}
        token_of = {pk: token for pk, token, _ in chosen}
        stale_push = [
            index[(token_of[pk], version)] - at
            for pk, version, at, _d, status in requests
            if status == 200 and (token_of[pk], version) in index
        ]
        minutes = watchers * length / 60
        served = [s for s, _w in windows_cpu]
        poll_cost = (served[1] - served[0]) / minutes
        # Below a clock tick of the process's CPU counter, push is not measurable.
        push_cost = max(served[2] - served[0], 1 / os.sysconf("SC_CLK_TCK")) / minutes
        return {
            "poll_cpu_ms_per_watcher_minute": poll_cost * 1000,
            "push_cpu_ms_per_watcher_minute": push_cost * 1000,
            "ratio": poll_cost / push_cost if push_cost > 0 else float("inf"),
            "poll_staleness_s": sum(stale_poll) / max(len(stale_poll), 1),
            "push_staleness_s": sum(stale_push) / max(len(stale_push), 1),
            "pushed": len(stale_push),
            "changes": sum(r[4] == 200 for r in requests),
            "served_cpu_s": served,
            "writer_cpu_s": [w for _s, w in windows_cpu],
        }
    finally:
        writer.close()
        server.close()
