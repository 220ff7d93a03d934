from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import reverse

from orders import services
from orders.models import Membership, Order, Shop
from orders.workflow_templates import TEMPLATES, install_template
from tracker.publicurl import public_base

DEMO_ORDERS = [
    # (number, customer, workflow, how many times to advance)
    ("1001", "Анна Смирнова", "pizza", 0),
    ("1002", "John Carter", "pizza", 2),
    ("1003", "Мария Иванова", "cafe", 1),
]


class Command(BaseCommand):
    help = "Create the demo shop, its staff user demo/demo and a few orders (idempotent)."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        shop, _ = Shop.objects.get_or_create(
            slug="demo",
            defaults={
                "name": "Pizza Demo",
                "phone": "+7 900 123-45-67",
                "address": "Москва, ул. Примерная, 1",
                "website": "https://example.com",
                "email": "hello@example.com",
                "opening_hours": "10:00–23:00",
                "language": "ru",
            },
        )
        for key in TEMPLATES:
            install_template(shop, key)
        user, created = get_user_model().objects.get_or_create(
            username="demo", defaults={"first_name": "Demo"}
        )
        if created:
            # Development only: this command is how the demo account exists at all.
            user.set_password("demo")
            user.save()
        Membership.objects.update_or_create(
            user=user, shop=shop, defaults={"role": Membership.Role.OWNER}
        )
        for number, customer, key, steps in DEMO_ORDERS:
            if Order.objects.filter(shop=shop, number=number).exists():
                continue
            order = services.create_order(
                shop=shop,
                workflow=shop.workflows.get(key=key),
                number=number,
                customer_name=customer,
                by=user,
            )
            for _step in range(steps):
                order = services.advance_order(order=order, by=user, expected_version=order.version)
        base = public_base()
        self.stdout.write(
            f"Staff board: {base}{reverse('orders:login')}  (user demo, password demo)"
        )
        self.stdout.write(f"Owner's console: {base}{reverse('console:shop', args=[shop.slug])}")
        for order in Order.objects.filter(shop=shop, number__in=[n for n, *_ in DEMO_ORDERS]):
            self.stdout.write(
                f"Tracking #{order.number}: {base}{reverse('orders:track', args=[order.token])}"
            )
