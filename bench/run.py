"""Run every benchmark and write docs/BENCHMARKS.md (make bench).

Benchmarks start their own servers on free local ports and stop by themselves.
"""

import datetime
import sys

from . import layers
from .common import ROOT, machine

INTRO = """# Benchmarks

Written by `make bench` ({date}), on {machine}.
Figures are the median of repeated runs with the min–max in brackets. They are
measurements of this machine, not promises; rerun `make bench` to reproduce.
"""

LAYERS = """
## Channel layer: Redis core vs Redis Pub/Sub (`bench/layers.py`)

Tracker's traffic is many tiny groups (one order, one to three watchers) and one
push per change, plus the occasional big group (a shop's public screen, a viral
link). The layer alone, in one process, against a private redis-server:

{table}
**Choice: `RedisPubSubChannelLayer`** (settings `CHANNEL_LAYER=pubsub`, the default).
One PUBLISH per change reaches every process; subscriptions share one connection
per shard, so a reconnect storm cannot exhaust the connection pool, which the core
layer does (it takes a pooled connection per concurrent call: the burst column).
Pub/Sub groups never expire (no 24 h `group_expiry` trap), and a Redis outage
leaves sockets open (REALTIME_NOTES.md). What it gives up: Pub/Sub keeps nothing
for a subscriber that is away, but neither layer is a queue for us — every page
resyncs on reconnect, so nothing depends on the layer buffering. The core layer
stays available (`CHANNEL_LAYER=core`) with capacity 50, expiry 30 s and
group_expiry 24 h set deliberately, and the pool is `REDIS_MAX_CONNECTIONS=1000`.
"""


def main() -> int:
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = INTRO.format(date=date, machine=machine())
    text += LAYERS.format(table=layers.run())
    out = ROOT / "docs" / "BENCHMARKS.md"
    out.write_text(text)
    print(text)
    print(f"written to {out.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
