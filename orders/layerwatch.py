"""Is the channel layer delivering to this process? A probe, and what sockets do about it.

With the Redis Pub/Sub layer a socket survives a Redis outage, but nothing reaches
it any more: the page would say "live" and show an old state. So each process
sends itself a probe through the layer every few seconds. When the layer refuses
one, or three in a row do not come back (one late probe is only a busy process),
every socket of the process is closed with a reconnectable code and new ones are
refused, so pages poll (and show the right state) until a probe comes
back; then their reconnect succeeds and push resumes, without a restart.

The in-memory layer cannot fail this way and is not probed.
"""

import asyncio
import contextlib
import logging
import weakref

from channels.layers import InMemoryChannelLayer
from django.conf import settings

from tracker.closecodes import CLOSE_TRY_AGAIN_LATER

log = logging.getLogger(__name__)

try:
    from redis.exceptions import RedisError
except ImportError:  # the embedded default needs no Redis client
    RedisError = OSError

# What a channel layer raises when its backend is away.
LAYER_ERRORS = (OSError, RedisError, asyncio.TimeoutError)

# Probes in a row that may come back late before the layer counts as not delivering.
LATE_PROBES = 3


class LayerWatch:
    def __init__(self, layer: object, interval: float, timeout: float) -> None:
        self.layer = layer
        self.interval = interval
        self.timeout = timeout
        self.healthy = True
        self.sockets: weakref.WeakSet = weakref.WeakSet()
        self._arrived = asyncio.Event()
        self._expected = 0
        self._late = 0
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        self._tasks = [asyncio.ensure_future(self._run())]

    async def _run(self) -> None:
        channel = None
        while channel is None:
            try:
                channel = await self.layer.new_channel("probe.")
            except LAYER_ERRORS:
                await self._mark(healthy=False, why="cannot subscribe")
                await asyncio.sleep(self.interval)
        self._tasks.append(asyncio.ensure_future(self._receive(channel)))
        while True:
            await self._probe(channel)
            await asyncio.sleep(self.interval)

    async def _receive(self, channel: str) -> None:
        while True:
            try:
                message = await self.layer.receive(channel)
            except LAYER_ERRORS:  # the core layer raises while Redis is away
                await asyncio.sleep(self.interval)
                continue
            if message.get("n") == self._expected:
                self._arrived.set()

    async def _probe(self, channel: str) -> None:
        self._expected += 1
        self._arrived.clear()
        try:
            await asyncio.wait_for(
                self.layer.send(channel, {"type": "probe", "n": self._expected}), self.timeout
            )
        except LAYER_ERRORS:
            self._late = 0
            await self._mark(healthy=False, why="the layer refused a probe")
            return
        try:
            await asyncio.wait_for(self._arrived.wait(), self.timeout)
        except TimeoutError:
            # A busy process answers its probe late, and its pushes still arrive:
            # only several late probes in a row mean the layer stopped delivering.
            self._late += 1
            if self._late >= LATE_PROBES:
                await self._mark(healthy=False, why=f"{self._late} probes did not come back")
        else:
            self._late = 0
            await self._mark(healthy=True, why="a probe came back")

    async def _mark(self, healthy: bool, why: str) -> None:
        if healthy == self.healthy:
            return
        self.healthy = healthy
        if healthy:
            log.warning("channel layer delivers again (%s); sockets may reconnect", why)
            return
        sockets = list(self.sockets)
        log.error("channel layer stopped delivering (%s); closing %d sockets", why, len(sockets))
        for consumer in sockets:
            with contextlib.suppress(Exception):  # one socket already gone must not stop the rest
                await consumer.close(code=CLOSE_TRY_AGAIN_LATER)


_watches: dict[int, LayerWatch] = {}


def watch_for(layer: object) -> LayerWatch | None:
    """The running process's watch of this layer, started on first use; None if not needed."""
    if layer is None or isinstance(layer, InMemoryChannelLayer):
        return None
    loop = asyncio.get_running_loop()
    key = id(loop)
    watch = _watches.get(key)
    if watch is None or watch.layer is not layer:
        watch = LayerWatch(
            layer,
            interval=settings.TRACKER_LAYER_PROBE_SECONDS,
            timeout=settings.TRACKER_LAYER_PROBE_TIMEOUT_SECONDS,
        )
        _watches[key] = watch
        watch.start()
    return watch
