"""The embedded default's channel layer: Channels' in-memory layer, leaner per message.

Channels' in-memory layer sweeps every channel and every group for expired
entries on each receive. Every socket receives once per connect and once per
pushed fragment, so with thousands of sockets each connect and each delivery paid
for a walk over all of them (quadratic in the sockets held). Sweeping at most once
a second expires entries at most a second late and keeps a receive O(1).

Its group_send also made one asyncio task per member (awaited through
`as_completed`) and deep-copied the message once per member: a quarter of a
2,000-watcher fan-out's samples in py-spy, spent on a send that never waits (the
queue put is `put_nowait`). Here a group send is one loop over the members, and
a receive keeps its channel's queue instead of building a new one per message.
"""

import asyncio
import contextlib
import time
from copy import deepcopy

from channels.layers import InMemoryChannelLayer

SWEEP_SECONDS = 1.0


class SweepingInMemoryChannelLayer(InMemoryChannelLayer):
    _swept_at = 0.0

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._reading: set[str] = set()  # channels whose reader waits in receive() now

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._swept_at >= SWEEP_SECONDS:
            self._swept_at = now
            super()._clean_expired()
            # Queues kept by receive() whose reader has gone without waiting again.
            for channel, queue in list(self.channels.items()):
                if queue.empty() and channel not in self._reading:
                    del self.channels[channel]

    async def receive(self, channel: str) -> dict:
        # Stock: a channel-name regex, a new asyncio.Queue built (setdefault) and the
        # emptied queue dropped, on every message of every socket. Here the queue
        # stays while its reader comes back for the next message, and goes when the
        # reader is cancelled (its consumer ended) or the sweep finds it unread.
        self._clean_expired()
        queue = self.channels.get(channel)
        if queue is None:
            self.require_valid_channel_name(channel)
            queue = self.channels[channel] = asyncio.Queue(self.get_capacity(channel))
        self._reading.add(channel)
        try:
            _, message = await queue.get()
        except asyncio.CancelledError:
            if queue.empty() and self.channels.get(channel) is queue:
                del self.channels[channel]
            raise
        finally:
            self._reading.discard(channel)
        return message

    async def group_send(self, group: str, message: dict) -> None:
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        members = self.groups.get(group)
        if not members:
            return
        # One deep copy keeps the sender's later changes out; each member still gets
        # a dict of its own (the stock layer's isolation for the top level), sharing
        # the values, which are strings here and never changed by a receiver.
        sent = deepcopy(message)
        expires = time.time() + self.expiry
        for channel in members:  # their names were checked by group_add
            queue = self.channels.get(channel)
            if queue is None:  # a member that never received yet (stock's send makes it)
                queue = self.channels[channel] = asyncio.Queue(self.get_capacity(channel))
            # A full member is skipped, as the stock layer does (delivery is
            # at-most-once; its page sees the version gap and resyncs).
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait((expires, dict(sent)))
