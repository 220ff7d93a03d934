"""The embedded default's channel layer: expiry still works, without a sweep per receive."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from tracker.layers import SweepingInMemoryChannelLayer


def test_expired_messages_are_swept_but_at_most_once_a_second() -> None:
    # In a thread of its own: after the browser tests, Playwright's loop runs in
    # this thread and no other loop can start here.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, _expired_messages_are_swept_but_at_most_once_a_second()).result()


async def _expired_messages_are_swept_but_at_most_once_a_second() -> None:
    layer = SweepingInMemoryChannelLayer()

    async def send_stale(channel: str) -> None:
        layer.expiry = -1  # arrives already expired
        await layer.send(channel, {"type": "push"})
        layer.expiry = 60

    await send_stale("stale.one")
    await layer.send("reader", {"type": "push"})
    await layer.receive("reader")  # the first receive sweeps
    assert "stale.one" not in layer.channels

    await send_stale("stale.two")
    await layer.send("reader", {"type": "push"})
    await layer.receive("reader")  # within the second: no walk over every channel
    assert "stale.two" in layer.channels

    layer._swept_at -= 1  # a second later (the clock moved on)
    await layer.send("reader", {"type": "push"})
    await layer.receive("reader")
    assert "stale.two" not in layer.channels
