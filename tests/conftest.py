"""A fixed cast: two shops, their staff, a stranger, an order, a signed-in client."""

import uuid

import pytest
from channels.layers import channel_layers
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from orders import services
from orders.models import Membership, Order, Shop
from orders.workflow_templates import install_template


@pytest.fixture(autouse=True, scope="session")
def _private_channel_layer() -> None:
    # On a shared Redis, tests must not hear other runs (or production) and vice versa.
    config = settings.CHANNEL_LAYERS["default"].setdefault("CONFIG", {})
    if "hosts" in config:
        config["prefix"] = f"tracker-test-{uuid.uuid4().hex[:8]}"
    channel_layers.backends.clear()


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> None:
    # Users made by fixtures are not what these tests test; PBKDF2's deliberate
    # slowness (0.4 s a hash here) would be most of the suite's time. Servers the
    # e2e tests start run the shipped hashers.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _make_shop(slug: str, name: str) -> Shop:
    shop = Shop.objects.create(slug=slug, name=name, phone="+7 900 000-00-00", language="en")
    install_template(shop, "pizza")
    install_template(shop, "cafe")
    return shop


def _make_staff(shop: Shop, username: str, first_name: str) -> object:
    user = get_user_model().objects.create_user(username, password="pw-" + username)
    user.first_name = first_name
    user.save()
    Membership.objects.create(user=user, shop=shop)
    return user


@pytest.fixture
def shop(db: None) -> Shop:
    return _make_shop("pizzeria", "Pizzeria")


@pytest.fixture
def other_shop(db: None) -> Shop:
    return _make_shop("other", "Other Shop")


@pytest.fixture
def staff(shop: Shop) -> object:
    return _make_staff(shop, "anna", "Anna")


@pytest.fixture
def second_staff(shop: Shop) -> object:
    return _make_staff(shop, "boris", "Boris")


@pytest.fixture
def stranger(other_shop: Shop) -> object:
    """Staff of the other shop: signed in, but must see nothing of `shop`."""
    return _make_staff(other_shop, "stranger", "Stan")


@pytest.fixture
def order(shop: Shop, staff: object) -> Order:
    return services.create_order(
        shop=shop,
        workflow=shop.workflows.get(key="pizza"),
        number="1042",
        customer_name="Maria Ivanova",
        phone="+7 900 111-22-33",
        email="maria@example.com",
        by=staff,
    )


@pytest.fixture
def other_order(other_shop: Shop, stranger: object) -> Order:
    return services.create_order(
        shop=other_shop,
        workflow=other_shop.workflows.get(key="pizza"),
        number="7",
        customer_name="Olga",
        by=stranger,
    )


def signed_in(user: object) -> Client:
    """A browser signed in as `user`, reading English."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def staff_client(staff: object) -> Client:
    return signed_in(staff)


@pytest.fixture
def stranger_client(stranger: object) -> Client:
    return signed_in(stranger)
