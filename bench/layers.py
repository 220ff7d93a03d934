"""Channel layers compared on Tracker's workload: many tiny groups, fan-out on change.

    python -m bench.layers [--watchers 2000] [--group-size 2] [--big 1000] [--repeat 3]

For each layer (in-memory, Redis core, Redis Pub/Sub on a private redis-server):
  subscribe  — group_add of every watcher (what a connect storm costs the layer)
  fan-out    — one group_send per group; deliveries/s until every watcher has its message,
               and per-message latency p50/p99
  big group  — one group_send to a group of --big watchers; time until the last has it
The pool is max_connections=1000, as in settings: the core layer takes one pooled
connection per concurrent call, so a burst larger than the pool fails ("Too many
connections"); Pub/Sub subscribes on one connection per shard.
Prints a Markdown table; bench/run.py writes it into docs/BENCHMARKS.md.
"""

import argparse
import asyncio
import time

from .common import pct, summary, throwaway_redis


def make_layer(kind: str, url: str | None) -> object:
    if kind == "memory":
        from tracker.layers import SweepingInMemoryChannelLayer  # what the app runs

        return SweepingInMemoryChannelLayer(capacity=100)
    host = {"address": url, "max_connections": 1000}
    if kind == "core":
        from channels_redis.core import RedisChannelLayer

        return RedisChannelLayer(hosts=[host], capacity=100, prefix="bench")
    from channels_redis.pubsub import RedisPubSubChannelLayer

    return RedisPubSubChannelLayer(hosts=[host], prefix="bench")


async def one_run(kind: str, url: str | None, watchers: int, size: int, big: int) -> dict:
    layer = make_layer(kind, url)
    channels = [await layer.new_channel() for _ in range(watchers)]
    groups = [f"g{i // size}" for i in range(watchers)]

    pairs = list(zip(groups, channels, strict=True))
    outcomes = await asyncio.gather(
        *(layer.group_add(g, c) for g, c in pairs), return_exceptions=True
    )
    burst_ok = not any(isinstance(o, Exception) for o in outcomes)  # a failure is the finding
    # Timed subscribe, with at most 500 at once so that every layer gets through.
    gate = asyncio.Semaphore(500)

    async def add(group: str, channel: str) -> None:
        async with gate:
            await layer.group_add(group, channel)

    start = time.perf_counter()
    await asyncio.gather(*(add(g, c) for g, c in pairs))
    subscribe_s = time.perf_counter() - start

    latencies: list[float] = []

    async def listen(channel: str, count: int) -> None:
        for _ in range(count):
            message = await layer.receive(channel)
            latencies.append(time.perf_counter() - message["t"])

    listeners = [asyncio.create_task(listen(c, 1)) for c in channels]
    await asyncio.sleep(0.2)  # let every receive() subscribe before the clock starts
    start = time.perf_counter()
    for g in sorted(set(groups)):
        await layer.group_send(g, {"type": "push", "t": time.perf_counter(), "html": "x" * 2000})
    await asyncio.wait_for(asyncio.gather(*listeners), 120)
    fanout_s = time.perf_counter() - start

    big_channels = channels[:big]
    await asyncio.gather(*(add("big", c) for c in big_channels))
    big_latencies: list[float] = []

    async def listen_big(channel: str) -> None:
        message = await layer.receive(channel)
        big_latencies.append(time.perf_counter() - message["t"])

    listeners = [asyncio.create_task(listen_big(c)) for c in big_channels]
    await asyncio.sleep(0.2)
    await layer.group_send("big", {"type": "push", "t": time.perf_counter(), "html": "x" * 2000})
    await asyncio.wait_for(asyncio.gather(*listeners), 120)

    if hasattr(layer, "flush"):
        await layer.flush()
    return {
        "burst_ok": burst_ok,
        "subscribe_per_s": watchers / subscribe_s,
        "deliveries_per_s": watchers / fanout_s,
        "p50_ms": pct(latencies, 0.5) * 1000,
        "p99_ms": pct(latencies, 0.99) * 1000,
        "big_all_ms": max(big_latencies) * 1000,
    }


def run(watchers: int = 2000, size: int = 2, big: int = 1000, repeat: int = 3) -> str:
    rows = []
    with throwaway_redis() as url:
        for kind, label in (
            ("memory", "in-memory"),
            ("core", "Redis core"),
            ("pubsub", "Redis Pub/Sub"),
        ):
            results = [asyncio.run(one_run(kind, url, watchers, size, big)) for _ in range(repeat)]
            burst = sum(r["burst_ok"] for r in results)
            rows.append(
                f"| {label} | {burst}/{repeat} | "
                + " | ".join(
                    summary([r[k] for r in results])
                    for k in (
                        "subscribe_per_s",
                        "deliveries_per_s",
                        "p50_ms",
                        "p99_ms",
                        "big_all_ms",
                    )
                )
                + " |"
            )
    head = (
        f"{watchers} watchers in groups of {size} (one send per group), and one group of "
        f"{big}; layer only, one process, median of {repeat} runs (min–max).\n\n"
        f"| layer | burst of {watchers} concurrent group_add survived | group_add/s | "
        "deliveries/s | latency p50 ms | latency p99 ms | "
        f"group of {big}: last delivery ms |\n|---|---|---|---|---|---|---|\n"
    )
    return head + "\n".join(rows) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--watchers", type=int, default=2000)
    parser.add_argument("--group-size", type=int, default=2)
    parser.add_argument("--big", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    a = parser.parse_args()
    print(run(a.watchers, a.group_size, a.big, a.repeat))
