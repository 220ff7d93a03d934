"""The in-store display: big order numbers in three columns, for a TV in the shop.

It shows the shop's orders by where they stand (orders.rules.display_column) with
their number and at most the initial of a first name: nothing else personal. The
whole display is one small fragment, rendered once per change and language by
each process that holds display sockets, whatever their number.
"""

import secrets
import time
from collections import defaultdict

from django.template.loader import render_to_string
from django.utils import timezone, translation

from . import announcements, rules
from .models import Order, Shop, Stage

FRESH_SECONDS = 60  # a number that became ready this recently is highlighted


def shop_for_link(slug: str, token: str) -> Shop | None:
    """The shop whose display link this is; None for any other (compared in constant
    time, as bytes: a link may carry anything)."""
    shop = Shop.objects.filter(slug=slug).first()
    if shop is None or not secrets.compare_digest(
        shop.display_token.encode(), token.encode("utf-8", "replace")
    ):
        return None
    return shop


def display_context(shop: Shop) -> dict:
    orders = list(
        Order.objects.filter(shop=shop)
        .filter(rules.display_filter(shop))
        .select_related("stage")
        .order_by("stage_since", "pk")
    )
    stages: dict[int, list[Stage]] = defaultdict(list)
    for stage in Stage.objects.filter(workflow_id__in={o.workflow_id for o in orders}):
        stages[stage.workflow_id].append(stage)
    columns: dict[str, list[dict]] = {key: [] for key in rules.DISPLAY_COLUMNS}
    now = timezone.now()
    for order in orders:
        order.shop = shop
        column = rules.display_column(order, stages[order.workflow_id])
        if column is None:
            continue
        collected = order.state == Order.State.COMPLETED
        since = order.updated_at if collected else order.stage_since or order.created_at
        columns[column].append(
            {
                "pk": order.pk,
                "number": order.number,
                "initial": order.customer_first_name[:1],
                "collected": collected,
                "fresh": column == "ready"
                and not collected
                and (now - since).total_seconds() < FRESH_SECONDS,
                "until": (
                    int((order.updated_at.timestamp() + shop.display_clear_minutes * 60) * 1000)
                    if collected
                    else None
                ),
            }
        )
    # Newest ready first: the one just called is where the eye lands.
    columns["ready"].sort(key=lambda tile: (tile["collected"], not tile["fresh"]))
    return {
        "shop": shop,
        "columns": columns,
        "stamp": int(time.time() * 1000),
        "notice": announcements.current(shop),
    }


def render_display(shop: Shop, lang: str) -> str:
    with translation.override(lang), timezone.override(shop.timezone):
        return render_to_string("orders/display.html#display", display_context(shop)).strip()


def displays_for(wanted: list[tuple[int, str]]) -> dict[tuple[int, str], str | None]:
    """The display fragments of several (shop pk, language) at once."""
    shops = Shop.objects.in_bulk({pk for pk, _ in wanted})
    return {
        (pk, lang): render_display(shops[pk], lang) if pk in shops else None for pk, lang in wanted
    }
