"""Customer care: ETA, promises, honest delays, and notes that never leak."""

import zoneinfo
from datetime import datetime, timedelta

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from orders import services
from orders.models import Order
from tests.support.adminforms import workflow_form

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _english() -> None:
    with translation.override("en"):
        yield


def local(order: Order, moment: datetime) -> str:
    return f"{timezone.localtime(moment, zoneinfo.ZoneInfo(order.shop.timezone)):%H:%M}"


def track(client: Client, order: Order) -> str:
    return client.get(f"/t/{order.token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def post(client: Client, name: str, order: Order, data: dict) -> object:
    return client.post(reverse(name, args=[order.pk]), data, **HX)


# --- ETA and promises ----------------------------------------------------------------


def test_the_eta_adds_the_expected_minutes_of_the_remaining_stages(
    client: Client, order: Order
) -> None:
    from orders.templatetags.tracker import when

    # Pizza: received 2, preparing 8, baking 10, delivery 25 minutes.
    expected = order.stage_since + timedelta(minutes=2 + 8 + 10 + 25)
    with timezone.override(order.shop.timezone):
        shown = when(expected)  # "today 19:40" or, near midnight, "tomorrow 00:10"
    assert f"Expected by about <strong>{shown}</strong>" in track(client, order)


def test_the_eta_recalculates_on_every_change_and_never_lies_in_the_past(
    client: Client, order: Order, staff
) -> None:
    Order.objects.filter(pk=order.pk).update(stage_since=timezone.now() - timedelta(hours=3))
    order.refresh_from_db()
    html = track(client, order)
    # The first stage overran by hours: the estimate slides forward instead of
    # naming a time that has passed.
    soonest = timezone.now() + timedelta(minutes=8 + 10 + 25)
    assert local(order, soonest) in html or local(order, soonest + timedelta(minutes=1)) in html
    order = services.advance_order(order=order, by=staff, expected_version=order.version)
    after = order.stage_since + timedelta(minutes=8 + 10 + 25)
    assert local(order, after) in track(client, order)


def test_a_promised_window_wins_over_the_estimate(
    client: Client, staff_client: Client, order: Order
) -> None:
    response = post(
        staff_client,
        "orders:promise",
        order,
        {"version": 1, "day": "", "start": "15:00", "end": "18:00"},
    )
    assert response.status_code == 200, response.content.decode()
    order.refresh_from_db()
    assert order.events.last().kind == "promised"
    html = track(client, order)
    assert "Promised: <strong>today 15:00–18:00</strong>" in html
    assert "Expected by about" not in html


def test_a_single_promised_time_reads_as_a_time(
    client: Client, staff_client: Client, order: Order
) -> None:
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    post(staff_client, "orders:promise", order, {"version": 1, "day": tomorrow, "end": "09:30"})
    order.refresh_from_db()
    assert order.promise_start == order.promise_end
    assert "Promised: <strong>tomorrow 09:30</strong>" in track(client, order)


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"start": "18:00", "end": "15:00"}, 409, "end after it starts"),
        ({"start": "15:00"}, 400, "at least the time it will be ready by"),
        ({"end": "25:99"}, 400, "Until: Enter a valid time."),
        ({"day": "2026-02-31", "end": "10:00"}, 400, "Day: Enter a valid date."),
        ({"day": "2020-01-01", "end": "10:00"}, 409, "must be in the future"),
    ],
)
def test_bad_promises_are_refused_clearly(
    staff_client: Client, order: Order, data: dict, status: int, message: str
) -> None:
    response = post(staff_client, "orders:promise", order, {"version": 1, **data})
    assert response.status_code == status
    assert message in response.content.decode()
    order.refresh_from_db()
    assert order.promise_end is None and order.version == 1


def test_an_empty_promise_form_withdraws_the_promise(staff_client: Client, order: Order) -> None:
    post(staff_client, "orders:promise", order, {"version": 1, "end": "18:00"})
    post(staff_client, "orders:promise", order, {"version": 2})
    order.refresh_from_db()
    assert order.promise_end is None and order.version == 3


def test_the_board_flags_orders_behind_their_promise(
    staff_client: Client, order: Order, staff
) -> None:
    soon = timezone.now() + timedelta(minutes=5)
    services.set_promise(order=order, by=staff, expected_version=1, start=soon, end=soon)
    # The promise has passed and the order is not ready.
    Order.objects.filter(pk=order.pk).update(promise_end=timezone.now() - timedelta(minutes=1))
    html = staff_client.get(reverse("orders:shop_board", args=["pizzeria"])).content.decode()
    assert "tile tile-red" in html and "Behind its promise" in html


# --- delays ----------------------------------------------------------------------------


def test_a_delay_is_shown_kindly_with_reason_action_and_new_time(
    client: Client, staff_client: Client, order: Order
) -> None:
    response = post(
        staff_client,
        "orders:delay",
        order,
        {
            "version": 1,
            "reason": "The oven broke down",
            "action": "We moved your pizza to our second oven",
            "new_time": "23:59",
        },
    )
    assert response.status_code == 200
    assert "Order 1042 is marked delayed." in response.content.decode()
    order.refresh_from_db()
    assert order.state == "delayed" and order.delay_until > timezone.now()
    html = track(client, order)
    assert "Your order is running late" in html
    assert "The oven broke down" in html and "second oven" in html
    assert "New time: <strong>" in html and "23:59" in html
    assert "Expected by about" not in html
    assert 'data-announce="Order 1042 is delayed: The oven broke down"' in html


def test_a_delay_needs_a_reason_and_a_future_time(order: Order, staff) -> None:
    with pytest.raises(services.ActionRefused, match="why"):
        services.delay_order(order=order, by=staff, expected_version=1, reason=" ")
    with pytest.raises(services.ActionRefused, match="future"):
        services.delay_order(
            order=order,
            by=staff,
            expected_version=1,
            reason="x",
            new_time=timezone.now() - timedelta(minutes=1),
        )
    order.refresh_from_db()
    assert order.state == "active" and order.version == 1


def test_resume_clears_the_delay(client: Client, staff_client: Client, order: Order) -> None:
    post(staff_client, "orders:delay", order, {"version": 1, "reason": "Busy"})
    response = post(staff_client, "orders:resume", order, {"version": 2})
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.state == "active" and order.delay_reason == ""
    assert "running late" not in track(client, order)
    assert post(staff_client, "orders:resume", order, {"version": 3}).status_code == 409


def test_advancing_a_delayed_order_ends_the_delay(order: Order, staff) -> None:
    services.delay_order(order=order, by=staff, expected_version=1, reason="Busy")
    order = services.advance_order(order=order, by=staff, expected_version=2)
    assert order.state == "active" and not order.delay_reason and order.stage.position == 2


def test_a_delayed_order_can_still_be_cancelled(order: Order, staff) -> None:
    services.delay_order(order=order, by=staff, expected_version=1, reason="Busy")
    order = services.cancel_order(order=order, by=staff, expected_version=2, reason="Sorry")
    assert order.state == "cancelled"


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_delay_and_resume_appear_live_on_an_open_tracker(order: Order, staff) -> None:
    from tests.test_consumers import watching

    ws = await watching(order.token)
    await database_sync_to_async(services.delay_order)(
        order=order, by=staff, expected_version=1, reason="Traffic jam"
    )
    pushed = await ws.receive_from(timeout=2)
    assert "Your order is running late" in pushed and "Traffic jam" in pushed
    await database_sync_to_async(services.resume_order)(order=order, by=staff, expected_version=2)
    assert "running late" not in await ws.receive_from(timeout=2)
    await ws.disconnect()


# --- notes -----------------------------------------------------------------------------

SECRET = "Customer is rude, check payment twice"


def test_a_customer_visible_note_is_shown_on_the_tracker(
    client: Client, staff_client: Client, order: Order
) -> None:
    response = post(
        staff_client, "orders:note", order, {"text": "Extra napkins are in the bag", "public": "1"}
    )
    assert response.status_code == 200
    html = track(client, order)
    assert "Updates from the shop" in html and "Extra napkins are in the bag" in html


def test_a_staff_only_note_never_reaches_a_public_page(
    client: Client, staff_client: Client, order: Order
) -> None:
    post(staff_client, "orders:note", order, {"text": SECRET})
    event = order.events.last()
    assert event.kind == "note" and not event.public
    for url in (f"/t/{order.token}/", f"/t/{order.token}/progress/"):
        for lang in ("en", "ru"):
            assert SECRET not in client.get(url, HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    # Staff read every note in the order's panel, the staff-only one too, also after a
    # public note (the old cards showed only the newest).
    post(staff_client, "orders:note", order, {"text": "Out soon", "public": "1"})
    panel = staff_client.get(reverse("orders:order", args=[order.pk])).content.decode()
    assert SECRET in panel and "staff only" in panel and "Out soon" in panel


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_staff_only_note_never_reaches_a_customer_socket(order: Order, staff) -> None:
    from tests.test_consumers import watching

    ws = await watching(order.token)
    await database_sync_to_async(services.add_note)(
        order=order, by=staff, text=SECRET, public=False
    )
    pushed = await ws.receive_from(timeout=2)  # the version moved, so a fragment comes
    assert 'data-version="2"' in pushed and SECRET not in pushed
    await ws.disconnect()
    from tests.test_consumers import track_socket

    again = track_socket(order.token)  # a fresh page's snapshot
    await again.connect()
    assert SECRET not in await again.receive_from(timeout=2)
    await again.disconnect()


@pytest.mark.parametrize("text", ["", "   ", "x" * 501])
def test_a_note_needs_1_to_500_characters(staff_client: Client, order: Order, text: str) -> None:
    response = post(staff_client, "orders:note", order, {"text": text, "public": "1"})
    assert response.status_code == 400 and "Note:" in response.content.decode()
    assert not order.events.filter(kind="note").exists()


def test_note_html_is_shown_as_text(client: Client, staff_client: Client, order: Order) -> None:
    post(
        staff_client, "orders:note", order, {"text": "<img src=x onerror=alert(1)>", "public": "1"}
    )
    html = track(client, order)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.parametrize("name", ["orders:delay", "orders:resume", "orders:note", "orders:promise"])
def test_care_actions_are_404_for_staff_of_another_shop(
    stranger_client: Client, order: Order, name: str
) -> None:
    response = stranger_client.post(
        reverse(name, args=[order.pk]), {"version": 1, "reason": "x", "text": "x", "end": "10:00"}
    )
    assert response.status_code == 404
    order.refresh_from_db()
    assert order.version == 1


@pytest.mark.parametrize("name", ["orders:delay", "orders:resume", "orders:note", "orders:promise"])
def test_care_actions_refuse_get(staff_client: Client, order: Order, name: str) -> None:
    assert staff_client.get(reverse(name, args=[order.pk])).status_code == 405


# --- aftercare -------------------------------------------------------------------------


@pytest.fixture
def salon_order(shop, staff) -> Order:
    from orders.workflow_templates import install_template

    workflow = install_template(shop, "salon")
    return services.create_order(
        shop=shop, workflow=workflow, number="S-1", customer_name="Olga", by=staff
    )


def finish(order: Order, staff: object) -> Order:
    """Advance the order through all its stages."""
    while order.state != "completed":
        order = services.advance_order(order=order, by=staff, expected_version=order.version)
    return order


def test_the_aftercare_memo_appears_on_the_final_stage_only(
    client: Client, salon_order: Order, staff
) -> None:
    assert "Good to know" not in track(client, salon_order)
    order = finish(salon_order, staff)
    html = track(client, order)
    assert "Good to know" in html and "Keep your hair dry for 48 hours" in html
    ru = client.get(f"/t/{order.token}/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Не мочите волосы 48 часов" in ru


def test_the_shop_edits_its_aftercare_memo_in_the_admin(
    admin_client: Client, client: Client, salon_order: Order, staff
) -> None:
    workflow = salon_order.workflow
    data = workflow_form(
        workflow, aftercare_ru="Новый текст", aftercare_en="Come back in <b>two</b> weeks"
    )
    response = admin_client.post(f"/admin/orders/workflow/{workflow.pk}/change/", data)
    assert response.status_code == 302
    order = finish(salon_order, staff)
    html = track(client, order)
    assert "Come back in &lt;b&gt;two&lt;/b&gt; weeks" in html


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        ("10:00–20:00", (10, 0)),  # closed at 04:07: ready when it opens
        ("18:00-02:00", (18, 0)),  # open past midnight, closed at 04:07
        ("00:00-24:00", (4, 7)),  # always open
        ("по будням", (4, 7)),  # not one daily range: nothing assumed
    ],
)
def test_a_pickup_orders_estimate_falls_when_the_shop_is_open(
    shop, staff, client: Client, hours: str, expected: tuple
) -> None:
    from orders import rules
    from orders.workflow_templates import install_template

    shop.opening_hours, shop.timezone = hours, "Europe/Moscow"
    shop.save()
    workflow = install_template(shop, "drycleaning")
    order = services.create_order(
        shop=shop, workflow=workflow, number="DC-1", customer_name="Vera", by=staff
    )
    stages = list(workflow.stages.all())
    later = sum(s.expected_minutes for s in stages if s.position > order.stage.position)
    zone = zoneinfo.ZoneInfo("Europe/Moscow")
    day = (timezone.now().astimezone(zone) + timedelta(days=3)).date()
    raw = datetime(day.year, day.month, day.day, 4, 7, tzinfo=zone)
    since = raw - timedelta(minutes=later + order.stage.expected_minutes)
    Order.objects.filter(pk=order.pk).update(stage_since=since)
    order.refresh_from_db()
    eta = rules.estimate(order, stages).astimezone(zone)
    assert (eta.date(), eta.hour, eta.minute) == (day, *expected)
    with translation.override("en"):
        page = client.get(f"/t/{order.token}/?lang=en").content.decode()
    assert f"{expected[0]:02d}:{expected[1]:02d}" in page


def test_a_kitchen_orders_estimate_ignores_opening_hours(shop, staff) -> None:
    from orders import rules

    shop.opening_hours = "10:00–11:00"
    shop.save()
    order = services.create_order(
        shop=shop,
        workflow=shop.workflows.get(key="pizza"),
        number="P-1",
        customer_name="P",
        by=staff,
    )
    stages = list(order.workflow.stages.all())
    eta = rules.estimate(order, stages)
    total = sum(s.expected_minutes for s in stages)
    assert abs((eta - timezone.now()) - timedelta(minutes=total)) < timedelta(minutes=1)
