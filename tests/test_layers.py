"""The embedded default's channel layer: expiry still works, without a sweep per receive."""

import asyncio
import contextlib
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


def test_a_group_send_reaches_every_member_once_with_its_own_copy_and_no_task_each() -> None:
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, _group_send_reaches_every_member()).result()


async def _group_send_reaches_every_member() -> None:
    layer = SweepingInMemoryChannelLayer(capacity=2)
    members = [await layer.new_channel() for _ in range(50)]
    for channel in members:
        await layer.group_add("order.t.en", channel)
    await layer.send(members[0], {"type": "push", "html": "old"})
    await layer.send(members[0], {"type": "push", "html": "older"})  # now full
    loop = asyncio.get_running_loop()
    tasks = []
    loop.set_task_factory(
        lambda loop, coro, **kw: tasks.append(1) or asyncio.Task(coro, loop=loop, **kw)
    )
    message = {"type": "push", "html": "<div data-version=2>", "extra": ["a"]}
    await layer.group_send("order.t.en", message)
    loop.set_task_factory(None)
    assert tasks == []  # stock: one task per member
    message["extra"].append("changed by the sender later")

    # The full member is skipped (at-most-once, as stock); its queue is intact.
    assert [(await layer.receive(members[0]))["html"] for _ in range(2)] == ["old", "older"]
    received = [await layer.receive(channel) for channel in members[1:]]
    assert all(m["html"] == "<div data-version=2>" and m["extra"] == ["a"] for m in received)
    received[0]["html"] = "a receiver's change"
    assert received[1]["html"] == "<div data-version=2>"
    assert all(c not in layer.channels or layer.channels[c].empty() for c in members)  # once
    await layer.group_send("no.such.group", message)  # nobody listens: nothing happens


def test_a_readers_queue_is_kept_between_messages_and_dropped_when_it_stops_reading() -> None:
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, _queue_kept_while_read()).result()


async def _queue_kept_while_read() -> None:
    layer = SweepingInMemoryChannelLayer()
    reader, gone, unread = [await layer.new_channel() for _ in range(3)]
    await layer.send(reader, {"type": "push", "n": 1})
    queue = layer.channels[reader]
    assert (await layer.receive(reader))["n"] == 1
    waiting = asyncio.ensure_future(layer.receive(reader))
    await asyncio.sleep(0)  # let it start waiting (a scheduling step, not a wait for time)
    await layer.send(reader, {"type": "push", "n": 2})
    assert (await waiting)["n"] == 2
    assert layer.channels[reader] is queue  # stock: a new queue per message

    # A consumer that ends cancels its pending receive: its queue goes with it.
    waiting = asyncio.ensure_future(layer.receive(gone))
    await asyncio.sleep(0)
    waiting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
    assert gone not in layer.channels

    # One whose reader went away between two messages is dropped by the next sweep.
    await layer.send(unread, {"type": "push"})
    await layer.receive(unread)
    assert unread in layer.channels
    layer._swept_at -= 1
    await layer.send(reader, {"type": "push"})
    await layer.receive(reader)
    assert unread not in layer.channels
    assert reader in layer.channels  # read again right away: kept
