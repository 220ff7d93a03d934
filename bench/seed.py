"""Seed the benchmark database: SHOPS shops of ORDERS open orders each, one staff user.

    python -m bench.seed SHOPS ORDERS [PREFIX]   (prints one JSON line)

Orders are spread over shops as in real life (a board shows one shop's few dozen
orders). The staff user's session and CSRF token let the load drive the staff
endpoints as a signed-in tablet does.
"""

import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.middleware.csrf import _get_new_csrf_string  # noqa: E402
from django.test import Client  # noqa: E402

from orders import services  # noqa: E402
from orders.models import Membership, Order, Shop  # noqa: E402
from orders.workflow_templates import install_template  # noqa: E402


def main(shops: int, per_shop: int, prefix: str = "bench") -> dict:
    user, _ = get_user_model().objects.get_or_create(username="bench")
    orders = []
    for s in range(shops):
        shop, created = Shop.objects.get_or_create(
            slug=f"{prefix}-{s}", defaults={"name": f"Bench {s}", "language": "en"}
        )
        if created:
            install_template(shop, "pizza")
            Membership.objects.create(user=user, shop=shop)
        workflow = shop.workflows.get(key="pizza")
        have = Order.objects.filter(shop=shop).count()
        for i in range(have, per_shop):
            services.create_order(
                shop=shop, workflow=workflow, number=f"B{i}", customer_name="Maria", by=user
            )
        orders += list(
            Order.objects.filter(shop=shop).order_by("pk").values_list("pk", "token", "version")
        )
    client = Client()
    client.force_login(user)
    return {
        "orders": orders,
        "session": client.cookies["sessionid"].value,
        "csrf": _get_new_csrf_string(),
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), int(sys.argv[2]), *sys.argv[3:4])))
