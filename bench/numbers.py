"""The owner's numbers on a big shop: ORDERS orders over 30 days, each with its history.

    python -m bench.numbers ORDERS   (prints one JSON line)

Rows are written in bulk (as years of real taps would have left them); then the
console's numbers are read for today, 7 and 30 days, timed, with their queries
counted. Run by `make bench` against its private PostgreSQL.
"""

import json
import os
import random
import sys
import time
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from console.numbers import numbers  # noqa: E402
from orders.models import Feedback, Order, OrderEvent, Shop  # noqa: E402
from orders.workflow_templates import install_template  # noqa: E402

BATCH = 5_000


def seed(count: int) -> Shop:
    # The rows carry their own times, spread over the month, as taps over a month
    # would have written them (a seed only: the app never writes past times).
    for model in (Order, OrderEvent):
        model._meta.get_field("created_at").auto_now_add = False
    shop, created = Shop.objects.get_or_create(slug="numbers", defaults={"name": "Numbers"})
    if not created:
        return shop
    workflow = install_template(shop, "pizza")
    stages = list(workflow.stages.all())
    rng = random.Random(7)
    now = timezone.now()
    for start in range(0, count, BATCH):
        orders = []
        for n in range(start, min(start + BATCH, count)):
            placed = now - timedelta(minutes=rng.uniform(60, 30 * 24 * 60))
            orders.append(
                Order(
                    shop=shop,
                    workflow=workflow,
                    number=str(n),
                    customer_name="N",
                    stage=stages[-1],
                    state=Order.State.COMPLETED,
                    version=len(stages),
                    opened_at=placed if n % 3 else None,
                    created_at=placed,
                )
            )
        Order.objects.bulk_create(orders)
        made = Order.objects.filter(shop=shop, number__in=[o.number for o in orders])
        events, ratings = [], []
        for order in made:
            at = order.created_at
            for version, stage in enumerate(stages, start=1):
                kind = (
                    "created"
                    if version == 1
                    else "completed"
                    if version == len(stages)
                    else "advanced"
                )
                events.append(
                    OrderEvent(order=order, version=version, kind=kind, stage=stage, created_at=at)
                )
                at += timedelta(minutes=rng.uniform(0.5, 2) * max(stage.expected_minutes, 1))
            if order.pk % 4 == 0:
                ratings.append(Feedback(order=order, rating=rng.randint(1, 5), comment="ok"))
        OrderEvent.objects.bulk_create(events, batch_size=BATCH)
        Feedback.objects.bulk_create(ratings)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return shop


def main(count: int) -> dict:
    shop = seed(count)
    out = {"orders": Order.objects.filter(shop=shop).count()}
    for period in ("today", "7d", "30d"):
        numbers(shop, period)  # warm: the first read pays for the cache
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            figures = numbers(shop, period)
            out[f"{period}_ms"] = (time.perf_counter() - began) * 1000
        out[f"{period}_queries"] = len(queries)
        out[f"{period}_orders"] = figures.orders
    return out


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
