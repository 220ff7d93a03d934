import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders import services
from orders.models import Order

HX = {"HTTP_HX_REQUEST": "true"}


def advance_url(order: Order) -> str:
    return reverse("orders:advance", args=[order.pk])


# --- tracking page -------------------------------------------------------------------


def test_track_page_shows_the_progressbar_contract(client: Client, order: Order, staff) -> None:
    services.advance_order(order=order, by=staff, expected_version=1)
    html = client.get(f"/t/{order.token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    bar = re.search(r'<div class="bar" role="progressbar"[^>]*>', html).group(0)
    assert 'aria-valuemin="0"' in bar
    assert 'aria-valuemax="5"' in bar
    assert 'aria-valuenow="2"' in bar
    assert 'aria-valuetext="Preparing"' in bar
    assert 'aria-live="polite"' in html
    assert html.count("seg-done") == 1 and html.count("seg-current") == 1


def test_track_page_shows_first_name_and_shop_contacts_but_no_private_data(
    client: Client, order: Order
) -> None:
    html = client.get(f"/t/{order.token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Maria" in html and "Ivanova" not in html
    assert "Order 1042" in html and "Pizzeria" in html
    assert 'href="tel:+79000000000"' in html
    assert "111-22-33" not in html and "maria@example.com" not in html


def test_track_page_lists_every_stage_with_the_time_reached(
    client: Client, order: Order, staff
) -> None:
    services.advance_order(order=order, by=staff, expected_version=1)
    html = client.get(f"/t/{order.token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for name in ("Order received", "Preparing", "Baking", "Out for delivery", "Delivered"):
        assert name in html
    assert html.count("<time datetime=") == 2
    assert 'aria-current="step"' in html


def test_track_page_speaks_russian_to_a_russian_browser(client: Client, order: Order) -> None:
    html = client.get(f"/t/{order.token}/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert '<html lang="ru">' in html
    assert "Заказ 1042" in html and "Заказ принят" in html


def test_track_page_falls_back_to_the_shop_language(client: Client, order: Order) -> None:
    order.shop.language = "ru"
    order.shop.save()
    html = client.get(f"/t/{order.token}/").content.decode()
    assert '<html lang="ru">' in html


def test_cancelled_order_shows_the_reason(client: Client, order: Order, staff) -> None:
    services.cancel_order(order=order, by=staff, expected_version=1, reason="Oven broke")
    html = client.get(f"/t/{order.token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "This order was cancelled" in html and "Oven broke" in html
    # The bar says so too, not the stage the order was at ("Order received").
    assert 'aria-valuetext="Order cancelled"' in html


def test_the_site_has_an_icon(client: Client, db: None) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"].endswith("favicon.svg")
    assert finders.find("favicon.svg")
    assert 'rel="icon"' in client.get("/staff/login/").content.decode()


@pytest.mark.parametrize(
    "token", ["x" * 24, "short", "A" * 300, "%00", "..%2F..%2Fetc", "<script>alert(1)</script>"]
)
def test_track_page_is_a_friendly_404_for_unknown_or_malformed_tokens(
    client: Client, db: None, token: str
) -> None:
    response = client.get(f"/t/{token}/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert "We could not find this order" in response.content.decode()
    assert "<script>alert" not in response.content.decode()


def test_unknown_token_404_is_translated(client: Client, db: None) -> None:
    response = client.get("/t/" + "y" * 24 + "/", HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 404
    assert "Мы не нашли этот заказ" in response.content.decode()


def test_progress_partial_is_the_fragment_alone_and_never_cached(
    client: Client, order: Order
) -> None:
    response = client.get(f"/t/{order.token}/progress/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode().strip()
    assert html.startswith('<section id="progress"')
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]


def test_track_page_refuses_post(client: Client, order: Order) -> None:
    assert client.post(f"/t/{order.token}/").status_code == 405


# --- staff board ---------------------------------------------------------------------


def test_board_requires_sign_in(client: Client, shop) -> None:
    response = client.get(reverse("orders:shop_board", args=[shop.slug]))
    assert response.status_code == 302 and "/staff/login/" in response["Location"]


def test_login_page_is_friendly(client: Client, db: None) -> None:
    response = client.get("/staff/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and "Staff sign-in" in response.content.decode()


def test_login_with_a_wrong_password_says_so(client: Client, staff) -> None:
    response = client.post(
        "/staff/login/", {"username": "anna", "password": "nope"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert "do not match" in response.content.decode()


def test_staff_home_redirects_to_their_only_shop(staff_client: Client, shop) -> None:
    response = staff_client.get("/staff/")
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:shop_board", args=[shop.slug])


def test_a_user_without_a_shop_is_told_so(client: Client, django_user_model) -> None:
    user = django_user_model.objects.create_user("nobody", password="pw")
    client.force_login(user)
    response = client.get("/staff/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403 and "not a staff member" in response.content.decode()


def test_board_shows_active_orders_with_named_advance_buttons(
    staff_client: Client, order: Order
) -> None:
    html = staff_client.get(reverse("orders:shop_board", args=["pizzeria"])).content.decode()
    assert 'aria-label="Advance order 1042 to Preparing"' in html
    assert '<span class="tile-name">Maria</span>' in html  # the first name only
    assert 'ws-connect="/ws/staff/pizzeria/' in html


def test_advance_through_the_board_with_htmx(staff_client: Client, order: Order) -> None:
    response = staff_client.post(advance_url(order), {"version": 1}, **HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Advance order 1042 to Baking" in html
    assert (
        'id="flash" class="flash" role="status" hx-swap-oob="innerHTML">Order 1042: Preparing.'
        in html
    )
    order.refresh_from_db()
    assert order.version == 2


def test_advance_without_htmx_redirects_back_to_the_board(
    staff_client: Client, order: Order
) -> None:
    response = staff_client.post(advance_url(order), {"version": 1})
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:shop_board", args=["pizzeria"])


def test_a_stale_tap_gets_409_with_who_moved_it_and_a_fresh_board(
    staff_client: Client, order: Order, second_staff
) -> None:
    services.advance_order(order=order, by=second_staff, expected_version=1)
    response = staff_client.post(advance_url(order), {"version": 1}, **HX)
    assert response.status_code == 409
    html = response.content.decode()
    assert "already moved to “Preparing” by Boris" in html
    assert "Advance order 1042 to Baking" in html  # the refreshed tile
    # Said at the tile that was tapped, not only at the top of the page.
    tile = html[html.index('<li class="tile') : html.index("</li>")]
    assert '<p class="tile-msg tile-msg-error">Order 1042 was already moved' in tile
    order.refresh_from_db()
    assert order.version == 2


def test_a_stale_tap_without_htmx_is_409_with_the_message(
    staff_client: Client, order: Order, second_staff
) -> None:
    services.advance_order(order=order, by=second_staff, expected_version=1)
    response = staff_client.post(advance_url(order), {"version": 1})
    assert response.status_code == 409
    assert "already moved" in response.content.decode()


@pytest.mark.parametrize("data", [{}, {"version": "abc"}, {"version": "-1"}, {"version": "9" * 30}])
def test_advance_with_a_bad_version_is_400_and_changes_nothing(
    staff_client: Client, order: Order, data: dict
) -> None:
    response = staff_client.post(advance_url(order), data, **HX)
    assert response.status_code == 400
    assert "incomplete" in response.content.decode()
    order.refresh_from_db()
    assert order.version == 1


@pytest.mark.parametrize("name", ["orders:advance", "orders:undo", "orders:cancel"])
def test_actions_refuse_get(staff_client: Client, order: Order, name: str) -> None:
    assert staff_client.get(reverse(name, args=[order.pk])).status_code == 405


@pytest.mark.parametrize(
    "name",
    [
        "orders:advance",
        "orders:undo",
        "orders:cancel",
        "orders:delay",
        "orders:resume",
        "orders:note",
        "orders:promise",
    ],
)
def test_staff_of_another_shop_get_404_on_every_action(
    stranger_client: Client, order: Order, name: str
) -> None:
    response = stranger_client.post(reverse(name, args=[order.pk]), {"version": 1, "reason": "x"})
    assert response.status_code == 404
    order.refresh_from_db()
    assert order.version == 1


def test_staff_of_another_shop_get_404_for_an_orders_panel_and_its_alerts(
    stranger_client: Client, order: Order
) -> None:
    problem = services.report_problem(order=order, text="Cold pizza")
    assert stranger_client.get(reverse("orders:order", args=[order.pk])).status_code == 404
    seen = reverse("orders:seen", args=[order.pk, problem.version])
    assert stranger_client.post(seen).status_code == 404
    order.refresh_from_db()
    assert order.version == problem.version  # nothing was marked seen


def test_staff_of_another_shop_get_404_for_its_board(stranger_client: Client, shop) -> None:
    for name in ("orders:shop_board", "orders:board_partial", "orders:history"):
        assert stranger_client.get(reverse(name, args=[shop.slug])).status_code == 404
    assert (
        stranger_client.get(
            reverse("orders:board_partial", args=[shop.slug]) + "?digest=1"
        ).status_code
        == 404
    )
    response = stranger_client.post(
        reverse("orders:create", args=[shop.slug]), {"number": "9", "customer_name": "X"}
    )
    assert response.status_code == 404


def test_actions_need_sign_in(client: Client, order: Order) -> None:
    response = client.post(advance_url(order), {"version": 1})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.version == 1


def test_actions_need_a_csrf_token(staff, order: Order) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    assert client.post(advance_url(order), {"version": 1}).status_code == 403


def test_undo_through_the_board(staff_client: Client, order: Order) -> None:
    staff_client.post(advance_url(order), {"version": 1}, **HX)
    response = staff_client.post(reverse("orders:undo", args=[order.pk]), {"version": 2}, **HX)
    assert response.status_code == 200 and "is back at Order received" in response.content.decode()


def test_cancel_through_the_board_requires_a_reason(staff_client: Client, order: Order) -> None:
    url = reverse("orders:cancel", args=[order.pk])
    response = staff_client.post(url, {"version": 1, "reason": ""}, **HX)
    assert response.status_code == 400
    assert "Reason for the customer: This field is required." in response.content.decode()
    response = staff_client.post(url, {"version": 1, "reason": "x" * 201}, **HX)
    assert response.status_code == 400 and "at most 200 characters" in response.content.decode()
    response = staff_client.post(url, {"version": 1, "reason": "Customer asked"}, **HX)
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.state == "cancelled" and order.cancel_reason == "Customer asked"


def test_create_order_from_the_board(staff_client: Client, shop) -> None:
    data = {
        "number": "  A-77 ",
        "customer_name": "Ivan",
        "phone": "+7 (900) 555-11-22",
        "email": "",
        "workflow": shop.workflows.get(key="cafe").pk,
    }
    response = staff_client.post(reverse("orders:create", args=[shop.slug]), data, **HX)
    assert response.status_code == 200
    assert "Order A-77 created." in response.content.decode()
    order = Order.objects.get(shop=shop, number="A-77")
    assert order.workflow.key == "cafe" and order.events.get().kind == "created"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("number", "", "This field is required."),
        ("number", "1042", "already in use"),
        ("number", "n" * 41, "at most 40 characters"),
        ("customer_name", "", "This field is required."),
        ("email", "not-an-email", "valid email"),
        ("phone", "call me maybe", "Enter a phone number"),
    ],
)
def test_create_order_rejects_bad_input_with_a_clear_message(
    staff_client: Client, order: Order, shop, field: str, value: str, message: str
) -> None:
    data = {
        "number": "2000",
        "customer_name": "Ivan",
        "workflow": shop.workflows.get(key="pizza").pk,
        field: value,
    }
    response = staff_client.post(reverse("orders:create", args=[shop.slug]), data, **HX)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert Order.objects.filter(shop=shop).count() == 1


def test_create_order_refuses_another_shops_workflow(
    staff_client: Client, shop, other_shop
) -> None:
    data = {"number": "5", "customer_name": "X", "workflow": other_shop.workflows.first().pk}
    response = staff_client.post(reverse("orders:create", args=[shop.slug]), data, **HX)
    assert response.status_code == 422
    assert not Order.objects.filter(number="5").exists()


def test_stored_strings_are_shown_escaped(staff_client: Client, shop, client: Client) -> None:
    data = {
        "number": "<b>9</b>",
        "customer_name": "<script>alert(1)</script> Bob",
        "workflow": shop.workflows.first().pk,
    }
    staff_client.post(reverse("orders:create", args=[shop.slug]), data, **HX)
    order = Order.objects.get(number="<b>9</b>")
    board = staff_client.get(reverse("orders:shop_board", args=[shop.slug])).content.decode()
    track = client.get(f"/t/{order.token}/").content.decode()
    for html in (board, track):
        assert "<script>alert(1)</script>" not in html and "<b>9</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in board


def test_an_undo_keeps_the_time_the_stage_was_first_reached(
    client: Client, order: Order, staff
) -> None:
    import zoneinfo
    from datetime import timedelta

    from django.utils import timezone

    two_hours_ago = timezone.now() - timedelta(hours=2)
    order.events.filter(version=1).update(created_at=two_hours_ago)
    order = services.advance_order(order=order, by=staff, expected_version=1)
    services.undo_order(order=order, by=staff, expected_version=2)
    html = client.get(f"/t/{order.token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    local = timezone.localtime(two_hours_ago, zoneinfo.ZoneInfo(order.shop.timezone))
    assert html.count("<time datetime=") == 1  # only the current, first stage
    assert f"{local:%H:%M}</time>" in html


def test_the_pages_poll_at_the_configured_interval(
    client: Client, staff_client: Client, order: Order, settings
) -> None:
    settings.TRACKER_POLL_SECONDS = 7
    for html in (
        client.get(f"/t/{order.token}/").content.decode(),
        staff_client.get(reverse("orders:shop_board", args=["pizzeria"])).content.decode(),
    ):
        assert 'data-poll-seconds="7"' in html


def test_history_lists_finished_orders_by_number_name_and_day(
    staff_client: Client, order: Order, staff
) -> None:
    services.cancel_order(order=order, by=staff, expected_version=1, reason="Closed early")
    other = services.create_order(
        shop=order.shop, workflow=order.workflow, number="77", customer_name="Zoya", by=staff
    )
    for _ in range(4):
        other = services.advance_order(order=other, by=staff, expected_version=other.version)
    url = reverse("orders:history", args=[order.shop.slug])
    html = staff_client.get(url).content.decode()
    assert "#1042" in html and "#77" in html and "Cancelled" in html
    found = staff_client.get(url, {"q": "zoy"}).content.decode()
    assert "#77" in found and "#1042" not in found
    today = timezone.localdate().isoformat()
    assert "#1042" in staff_client.get(url, {"day": today}).content.decode()
    assert "#1042" not in staff_client.get(url, {"day": "2020-01-01"}).content.decode()
    bad = staff_client.get(url, {"day": "not-a-day", "page": "x"})
    assert bad.status_code == 200 and "Enter a valid date." in bad.content.decode()
    # Its timeline opens from there, staff-only notes included.
    assert staff_client.get(reverse("orders:order", args=[order.pk])).status_code == 200


def test_marking_an_alert_seen_clears_it_and_says_who_saw_it(
    staff_client: Client, order: Order
) -> None:
    problem = services.report_problem(order=order, text="Cold pizza")
    board = reverse("orders:shop_board", args=[order.shop.slug])
    assert "Cold pizza" in staff_client.get(board).content.decode()
    seen = reverse("orders:seen", args=[order.pk, problem.version])
    answer = staff_client.post(seen, **HX)
    assert answer.status_code == 200 and "Cold pizza" not in answer.content.decode()
    assert "Cold pizza" not in staff_client.get(board).content.decode()
    event = order.events.get(kind="seen")
    assert event.acknowledges.version == problem.version and event.by_name == "Anna"
    again = staff_client.post(seen, **HX)
    assert again.status_code == 409 and "Already seen by Anna" in again.content.decode()
    assert (
        staff_client.post(reverse("orders:seen", args=[order.pk, 1]), **HX).status_code == 409
    )  # the creation is no alert


def test_the_boards_digest_is_its_tile_count_and_version_sum(
    staff_client: Client, order: Order, staff
) -> None:
    url = reverse("orders:board_partial", args=[order.shop.slug]) + "?digest=1"
    assert staff_client.get(url).content.decode() == "1:1"
    services.advance_order(order=order, by=staff, expected_version=1)
    services.create_order(
        shop=order.shop, workflow=order.workflow, number="2", customer_name="Ivan", by=staff
    )
    response = staff_client.get(url)
    assert response.content.decode() == "2:3" and response["Cache-Control"] == "no-store"
    # The board page carries the same digest, which the tablet compares with its own.
    board = staff_client.get(reverse("orders:shop_board", args=[order.shop.slug]))
    assert 'data-digest="2:3"' in board.content.decode()


def test_the_board_switches_language_for_this_tablet(staff_client: Client, order: Order) -> None:
    board = reverse("orders:shop_board", args=[order.shop.slug])
    html = staff_client.get(board).content.decode()
    assert 'action="/i18n/setlang/"' in html and 'value="ru"' in html
    staff_client.post("/i18n/setlang/", {"language": "ru", "next": board})
    russian = staff_client.get(board, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="ru">' in russian and "Перевести заказ 1042" in russian


def test_the_first_opening_of_a_tracking_link_is_a_recorded_change(
    client: Client, order: Order
) -> None:
    before = order.version
    client.get(f"/t/{order.token}/")
    order.refresh_from_db()
    opened = order.events.get(kind="opened")
    assert order.opened_at is not None and order.version == before + 1
    assert opened.version == order.version and opened.by_customer and not opened.public
    # Later openings change nothing; an aside, it keeps the undo of the last step.
    client.get(f"/t/{order.token}/")
    order.refresh_from_db()
    assert order.version == before + 1
    assert order.last_action != "opened"
