"""Who gets pushed what: the groups, and telling the sockets that an order changed.

A change publishes a small notice to its order's group and its shop's board group.
Each server process renders what its own sockets show when the notice arrives
(orders.consumers, with orders.selectors and orders.board): once per change and
language its sockets use, however many of them watch, and not at all where nobody
watches. A tap therefore costs the same whether its order has no watcher or
thousands, and languages nobody uses are never rendered.
"""

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from . import board
from .models import Order

log = logging.getLogger(__name__)


def order_group(token: str) -> str:
    return f"order.{token}"


def board_group(shop_id: int) -> str:
    return f"board.{shop_id}"


async def _send_all(messages: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()

    # Together: each group's send is a round trip to Redis, and no group's order
    # depends on another's (each page keeps the highest version it saw).
    sends = asyncio.gather(*(layer.group_send(group, message) for group, message in messages))
    await asyncio.wait_for(sends, settings.TRACKER_PUBLISH_TIMEOUT_SECONDS)


def publish(messages: list[tuple[str, dict]]) -> None:
    """Send these (group, message) pairs from synchronous code, within the publish
    timeout; raises if the layer fails or is too slow (callers log and go on)."""
    async_to_sync(_send_all)(messages)


def broadcast_order(order_pk: int, order: Order | None = None, kind: str = "") -> None:
    """Tell the order's watchers and its shop's boards that it changed.

    `order`: as the change committed it; read if not given. `kind`: the change's
    event kind (an alert's change also refreshes the boards' alerts). The notice
    carries no HTML: each process renders for its own sockets. Runs after commit.
    Any failure is logged and swallowed: the change is committed, and pages resync
    on reconnect, visibility or polling.
    """
    try:
        if order is None:
            order = Order.objects.only("pk", "token", "shop_id", "version").get(pk=order_pk)
        notice = {
            "type": "order.changed",
            "order": order.pk,
            "version": order.version,
            "alerts": kind in board.ALERT_KINDS,
        }
        publish([(order_group(order.token), notice), (board_group(order.shop_id), notice)])
    except Exception:
        log.exception("broadcast of order %s failed; pages will resync", order_pk)
