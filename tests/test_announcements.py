"""A shop's notice for every customer: posted by staff, shown live, gone at its end."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.utils import timezone

from orders import announcements
from orders.models import Order, Shop
from tests.test_consumers import track_socket
from tests.test_display import display_socket

SNOW = "Deliveries are running late because of snow"


def until(minutes: int) -> str:
    """A datetime-local value in the shop's zone (Moscow in these tests' shop)."""
    import zoneinfo

    at = timezone.now().astimezone(zoneinfo.ZoneInfo("Europe/Moscow")) + timedelta(minutes=minutes)
    return at.strftime("%Y-%m-%dT%H:%M")


def test_staff_post_a_notice_that_every_page_shows_and_end_it(
    shop: Shop, order: Order, staff_client: Client, client: Client
) -> None:
    response = staff_client.post(
        f"/staff/{shop.slug}/announce/", {"text": SNOW, "until": until(90)}
    )
    assert response.status_code == 302
    for page in (
        f"/t/{order.token}/",
        f"/t/{order.token}/embed/",
        f"/s/{shop.slug}/display/{shop.display_token}/",
    ):
        assert SNOW in client.get(page).content.decode(), page
    staff_client.post(f"/staff/{shop.slug}/announce/", {"end": "1"})
    assert SNOW not in client.get(f"/t/{order.token}/").content.decode()


def test_a_notice_is_gone_from_every_render_after_its_end(
    shop: Shop, order: Order, client: Client
) -> None:
    announcements.post(shop, SNOW, timezone.now() + timedelta(minutes=5))
    assert SNOW in client.get(f"/t/{order.token}/").content.decode()
    Shop.objects.filter(pk=shop.pk).update(notice_until=timezone.now() - timedelta(seconds=1))
    assert SNOW not in client.get(f"/t/{order.token}/").content.decode()


@pytest.mark.parametrize(
    ("text", "minutes", "problem"),
    [
        ("", 60, "Notice for every customer"),
        ("x" * 201, 60, "Notice for every customer"),
        (SNOW, -5, "The end time has passed"),
        (SNOW, 60 * 24 * 8, "a week at most"),
    ],
)
def test_a_bad_notice_is_refused_clearly(
    shop: Shop, staff_client: Client, text: str, minutes: int, problem: str
) -> None:
    response = staff_client.post(
        f"/staff/{shop.slug}/announce/", {"text": text, "until": until(minutes)}
    )
    html = response.content.decode()
    assert response.status_code == 422 and problem in html
    # What was typed is shown again, to be corrected rather than typed anew.
    if text:
        assert f'value="{text}"' in html and f'value="{until(minutes)}"' in html
    shop.refresh_from_db()
    assert shop.notice == ""


def test_staff_of_another_shop_cannot_post(shop: Shop, stranger_client: Client) -> None:
    response = stranger_client.post(
        f"/staff/{shop.slug}/announce/", {"text": SNOW, "until": until(60)}
    )
    assert response.status_code == 404
    shop.refresh_from_db()
    assert shop.notice == ""


def test_a_notice_is_shown_as_text(shop: Shop, order: Order, client: Client) -> None:
    announcements.post(shop, '<script>alert("x")</script>', timezone.now() + timedelta(hours=1))
    html = client.get(f"/t/{order.token}/").content.decode()
    assert "&lt;script&gt;alert(" in html and "<script>alert(" not in html


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_notice_reaches_open_trackers_and_displays_live(shop: Shop, order: Order) -> None:
    tracker = track_socket(order.token)
    assert (await tracker.connect())[0]
    await tracker.receive_from(timeout=2)
    display = display_socket(shop)
    assert (await display.connect())[0]
    await display.receive_from(timeout=2)
    await database_sync_to_async(announcements.post)(
        shop, SNOW, timezone.now() + timedelta(hours=1)
    )
    pushed = await tracker.receive_from(timeout=2)
    assert pushed.startswith('<div id="announcement"') and SNOW in pushed
    assert SNOW in await display.receive_from(timeout=2)
    await database_sync_to_async(announcements.end)(shop)
    gone = await tracker.receive_from(timeout=2)
    assert gone.startswith('<div id="announcement"') and SNOW not in gone and " hidden" in gone
    await tracker.disconnect()
    await display.disconnect()
