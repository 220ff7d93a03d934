"""Closing the loop: one rating per order on the tracker, and problem reports to staff."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders import rules, services
from orders.models import Feedback, Order

HX = {"HTTP_HX_REQUEST": "true", "HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def done(order: Order, staff) -> Order:
    for _ in range(4):
        order = services.advance_order(order=order, by=staff, expected_version=order.version)
    return order


def rate(client: Client, order: Order, **data: object) -> object:
    return client.post(f"/t/{order.token}/feedback/", data, **HX)


def test_the_tracker_asks_how_it_was_after_the_last_stage_only(
    client: Client, order: Order, done: Order
) -> None:
    html = client.get(f"/t/{done.token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "How was it?" in html and 'aria-label="Rate 5 out of 5"' in html


@pytest.mark.parametrize("key", ["drycleaning", "carrepair", "cafe"])
def test_a_pickup_order_is_rated_after_it_is_handed_over_not_when_ready(
    client: Client, shop, staff, key: str
) -> None:
    from orders.workflow_templates import install_template

    workflow = install_template(shop, key)
    order = services.create_order(
        shop=shop, workflow=workflow, number="D-1", customer_name="Vera", by=staff
    )
    while not order.stage.waits_for_customer:  # up to "Ready for pickup"
        order = services.advance_order(order=order, by=staff, expected_version=order.version)
    assert order.stage.name_en == "Ready for pickup" and not order.is_finished
    html = client.get(f"/t/{order.token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "How was it?" not in html
    assert rate(client, order, rating=5).status_code == 409
    order = services.advance_order(order=order, by=staff, expected_version=order.version)
    assert order.is_finished  # handed over: the last stage
    html = client.get(f"/t/{order.token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "How was it?" in html


def test_no_rating_form_before_the_order_is_done(client: Client, order: Order) -> None:
    html = client.get(f"/t/{order.token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "How was it?" not in html
    response = rate(client, order, rating=5)
    assert response.status_code == 409 and "once it is done" in response.content.decode()
    assert not Feedback.objects.exists()


def test_one_tap_rating_with_a_comment_needs_no_account_or_cookie(
    done: Order,
) -> None:
    client = Client(enforce_csrf_checks=True)  # and no session: a customer in an iframe
    response = rate(client, done, rating=4, comment="Hot and fast")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Thank you for your rating!" in html
    assert "You rated this order 4 out of 5." in html
    feedback = Feedback.objects.get(order=done)
    assert (feedback.rating, feedback.comment) == (4, "Hot and fast")
    assert "sessionid" not in response.cookies


def test_a_rating_is_one_per_order_and_editable_for_a_short_while(
    client: Client, done: Order, settings
) -> None:
    rate(client, done, rating=2)
    rate(client, done, rating=5, comment="Actually great")
    assert Feedback.objects.filter(order=done).count() == 1
    assert Feedback.objects.get(order=done).rating == 5
    Feedback.objects.filter(order=done).update(
        created_at=timezone.now() - timedelta(seconds=settings.TRACKER_FEEDBACK_EDIT_SECONDS + 1)
    )
    response = rate(client, done, rating=1)
    assert response.status_code == 409 and "can no longer be changed" in response.content.decode()
    assert Feedback.objects.get(order=done).rating == 5
    html = client.get(f"/t/{done.token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Rate 1 out of 5" not in html  # the form is gone once it cannot be used


def test_a_rating_can_be_changed_a_few_times_not_without_limit(client: Client, done: Order) -> None:
    answers = [
        rate(client, done, rating=1 + n % 5, comment=f"try {n}").status_code for n in range(200)
    ]
    assert answers[: 1 + rules.FEEDBACK_CHANGES] == [200] * (1 + rules.FEEDBACK_CHANGES)
    assert set(answers[1 + rules.FEEDBACK_CHANGES :]) == {409}
    # The first rating and its allowed changes: no more events, webhooks or alerts.
    assert done.events.filter(kind="feedback").count() == 1 + rules.FEEDBACK_CHANGES
    assert Feedback.objects.get(order=done).comment == f"try {rules.FEEDBACK_CHANGES}"
    # Sending the same rating again (a double tap) is no change and no refusal.
    again = rate(
        client, done, rating=1 + rules.FEEDBACK_CHANGES % 5, comment=f"try {rules.FEEDBACK_CHANGES}"
    )
    assert again.status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rating": 0}, "Rating:"),
        ({"rating": 6}, "Rating:"),
        ({"rating": "five"}, "Rating: Enter a whole number."),
        ({}, "Rating: This field is required."),
        ({"rating": 3, "comment": "x" * 1001}, "Comment (optional): Ensure this value"),
    ],
)
def test_bad_ratings_are_refused_clearly(
    client: Client, done: Order, data: dict, message: str
) -> None:
    response = rate(client, done, **data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Feedback.objects.exists()


def test_a_comment_with_html_is_shown_as_text(
    client: Client, done: Order, staff_client: Client
) -> None:
    rate(client, done, rating=1, comment="<script>alert(1)</script>")
    board = staff_client.get(reverse("orders:shop_board", args=["pizzeria"])).content.decode()
    page = client.get(f"/t/{done.token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for html in (board, page):
        assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in board


def test_a_low_rating_raises_an_alert_on_the_board_but_a_high_one_does_not(
    client: Client, done: Order, staff_client: Client
) -> None:
    rate(client, done, rating=5)
    board = staff_client.get(reverse("orders:shop_board", args=["pizzeria"])).content.decode()
    assert "Needs attention" not in board
    rate(client, done, rating=2, comment="Cold")
    board = staff_client.get(reverse("orders:shop_board", args=["pizzeria"])).content.decode()
    assert "Needs attention" in board and "Rated 2 of 5: Cold" in board


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_low_rating_reaches_the_shops_boards_live(done: Order, staff_cookie: str) -> None:
    from tests.test_consumers import staff_socket

    ws = staff_socket(staff_cookie)
    await ws.connect()
    await ws.receive_from(timeout=2)
    await database_sync_to_async(services.leave_feedback)(order=done, rating=1, comment="Late")
    board = await ws.receive_from(timeout=2)
    assert "Needs attention" in board and "Late" in board
    await ws.disconnect()


@pytest.fixture
def staff_cookie(staff: object) -> str:
    from tests.test_consumers import session_cookie

    return session_cookie(staff)


def test_the_shop_sees_ratings_in_the_admin(admin_client: Client, done: Order) -> None:
    services.leave_feedback(order=done, rating=3, comment="OK")
    html = admin_client.get("/admin/orders/feedback/").content.decode()
    assert "1042" in html and ">3<" in html


# --- report a problem ------------------------------------------------------------------


def test_a_customer_can_report_a_problem_at_any_stage(
    client: Client, order: Order, staff_client: Client
) -> None:
    response = client.post(
        f"/t/{order.token}/problem/", {"text": "Wrong address on the order"}, **HX
    )
    assert response.status_code == 200
    assert "staff have your message" in response.content.decode()
    event = order.events.last()
    assert event.kind == "problem" and not event.public
    board = staff_client.get(reverse("orders:shop_board", args=["pizzeria"])).content.decode()
    assert "Problem reported: Wrong address on the order" in board
    page = client.get(f"/t/{order.token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Wrong address on the order" not in page  # staff-only


@pytest.mark.parametrize("text", ["", "  ", "x" * 501])
def test_a_problem_report_needs_1_to_500_characters(
    client: Client, order: Order, text: str
) -> None:
    response = client.post(f"/t/{order.token}/problem/", {"text": text}, **HX)
    assert response.status_code == 400 and "What went wrong?:" in response.content.decode()
    assert not order.events.filter(kind="problem").exists()


def test_problem_reports_are_limited_per_order(client: Client, order: Order) -> None:
    for i in range(services.PROBLEMS_PER_HOUR):
        assert client.post(f"/t/{order.token}/problem/", {"text": f"p{i}"}, **HX).status_code == 200
    response = client.post(f"/t/{order.token}/problem/", {"text": "again"}, **HX)
    assert response.status_code == 409 and "please call the shop" in response.content.decode()
    assert order.events.filter(kind="problem").count() == services.PROBLEMS_PER_HOUR


@pytest.mark.parametrize("path", ["feedback", "problem"])
def test_care_posts_are_404_for_unknown_tokens_and_405_for_get(
    client: Client, order: Order, path: str
) -> None:
    assert client.post(f"/t/{'z' * 24}/{path}/", {"text": "x", "rating": 5}).status_code == 404
    assert client.get(f"/t/{order.token}/{path}/").status_code == 405


def test_without_htmx_the_full_page_answers_with_the_message(client: Client, done: Order) -> None:
    response = client.post(f"/t/{done.token}/feedback/", {"rating": 5}, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200 and html.startswith("<!doctype html>")
    assert "Thank you for your rating!" in html
