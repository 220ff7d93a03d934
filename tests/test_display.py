"""The in-store display: its secret link, its columns, nothing personal, live."""

import re
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone

from orders import services
from orders.models import Order, Shop
from tracker.asgi import application
from tracker.closecodes import CLOSE_ACCESS_ENDED


def columns(html: str) -> dict[str, list[str]]:
    """The numbers in each column, as the display shows them."""
    found = {}
    for key, body in re.findall(r'display-col display-(\w+)">(.*?)</div>', html, re.S):
        found[key] = re.findall(r'<li id="display-\d+"[^>]*>([^<\s]+)', body)
    return found


def cafe_order(shop: Shop, staff: object, number: str, steps: int = 0) -> Order:
    order = services.create_order(
        shop=shop,
        workflow=shop.workflows.get(key="cafe"),
        number=number,
        customer_name="Vera Petrova",
        phone="+7 900 123-45-67",
        email="vera@example.com",
        by=staff,
    )
    for _ in range(steps):
        order = services.advance_order(order=order, by=staff, expected_version=order.version)
    return order


def display_url(shop: Shop, token: str | None = None) -> str:
    return f"/s/{shop.slug}/display/{token or shop.display_token}/"


def test_the_display_shows_numbers_by_column_and_nothing_personal(
    shop: Shop, staff: object, client: Client
) -> None:
    stages = list(shop.workflows.get(key="cafe").stages.all())
    ready = next(s.position for s in stages if s.waits_for_customer)
    cafe_order(shop, staff, "1040")  # just placed
    cafe_order(shop, staff, "1041", steps=ready - 2)  # the stage before ready
    cafe_order(shop, staff, "1042", steps=ready - 1)  # ready for pickup
    gone = cafe_order(shop, staff, "1043")
    services.cancel_order(order=gone, by=staff, expected_version=gone.version, reason="No milk")
    html = client.get(display_url(shop), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert columns(html) == {"preparing": ["1040"], "almost": ["1041"], "ready": ["1042"]}
    assert "Ready — come to the counter" in html
    # The initial of a first name at most: no names, phones or e-mails.
    assert "V." in html
    for personal in ("Vera", "Petrova", "900", "vera@"):
        assert personal not in html


def test_a_collected_order_leaves_after_the_shops_clear_time(
    shop: Shop, staff: object, client: Client
) -> None:
    order = cafe_order(shop, staff, "1050")
    while not order.is_finished:
        order = services.advance_order(order=order, by=staff, expected_version=order.version)
    html = client.get(display_url(shop)).content.decode()
    assert columns(html)["ready"] == ["1050"]
    until = int(re.search(r'data-until="(\d+)"', html)[1])
    assert abs(until / 1000 - (order.updated_at.timestamp() + 2 * 60)) < 1  # 2 minutes
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(minutes=3))
    assert columns(client.get(display_url(shop)).content.decode())["ready"] == []


@pytest.mark.parametrize("token", ["x" * 24, "wrong"])
def test_a_wrong_or_old_link_finds_nothing(
    shop: Shop, other_shop: Shop, client: Client, token: str
) -> None:
    assert client.get(display_url(shop, token)).status_code == 404
    # Another shop's secret does not open this shop's display.
    assert client.get(f"/s/{shop.slug}/display/{other_shop.display_token}/").status_code == 404


def test_each_shop_has_its_own_secret(shop: Shop, other_shop: Shop) -> None:
    assert shop.display_token != other_shop.display_token
    assert len(shop.display_token) == 24


def display_socket(shop: Shop, token: str | None = None) -> WebsocketCommunicator:
    return WebsocketCommunicator(
        application,
        f"/ws/display/{shop.slug}/{token or shop.display_token}/?lang=en",
        headers=[(b"origin", b"http://127.0.0.1")],
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_tap_moves_a_number_on_an_open_display_and_a_new_link_closes_it(
    shop: Shop, staff: object
) -> None:
    from tests.test_console import _client, _owner

    order = await database_sync_to_async(cafe_order)(shop, staff, "1060")
    ws = display_socket(shop)
    assert (await ws.connect())[0]
    assert columns(await ws.receive_from(timeout=2))["preparing"] == ["1060"]
    stages = await database_sync_to_async(lambda: list(order.workflow.stages.all()))()
    ready = next(s.position for s in stages if s.waits_for_customer)
    for _ in range(ready - 1):
        order = await database_sync_to_async(services.advance_order)(
            order=order, by=staff, expected_version=order.version
        )
        html = await ws.receive_from(timeout=2)
    assert columns(html)["ready"] == ["1060"] and 'class="display-number fresh"' in html
    # The owner makes a new link: the open display closes at once, the old link is dead.
    owner = await database_sync_to_async(_owner)(shop, "olga")
    url = f"/staff/{shop.slug}/settings/display/new-link/"
    assert (await database_sync_to_async(lambda: _client(owner).post(url))()).status_code == 302
    assert await ws.receive_output(timeout=2) == {
        "type": "websocket.close",
        "code": CLOSE_ACCESS_ENDED,
    }
    old = display_socket(shop)  # the old token still in hand
    assert not (await old.connect())[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_display_socket_needs_the_secret(shop: Shop) -> None:
    ws = display_socket(shop, "y" * 24)
    assert not (await ws.connect())[0]
