"""Customers acting for themselves: cancel early, confirm receipt, find the shop."""

import pytest
from django.test import Client
from django.utils import translation

from orders import services
from orders.models import Order, OrderEvent, Shop
from orders.workflow_templates import install_template


def cafe(shop: Shop, staff: object, number: str = "C-1", steps: int = 0) -> Order:
    order = services.create_order(
        shop=shop,
        workflow=shop.workflows.get(key="cafe"),
        number=number,
        customer_name="Vera",
        by=staff,
    )
    for _ in range(steps):
        order = services.advance_order(order=order, by=staff, expected_version=order.version)
    return order


def post(client: Client, order: Order, action: str, data: dict | None = None):
    return client.post(f"/t/{order.token}/{action}/?lang=en", data or {}, HTTP_HX_REQUEST="true")


def test_the_customer_cancels_before_the_stage_and_the_staff_are_told(
    shop: Shop, staff: object, client: Client, staff_client: Client
) -> None:
    order = cafe(shop, staff)
    page = client.get(f"/t/{order.token}/?lang=en").content.decode()
    assert "Cancel order" in page and "Yes, cancel order C-1" in page
    answer = post(client, order, "cancel", {"reason": "Changed my mind"})
    assert answer.status_code == 200 and "Your order is cancelled" in answer.content.decode()
    order.refresh_from_db()
    assert order.state == Order.State.CANCELLED and order.cancel_reason == "Changed my mind"
    event = order.events.get(kind=OrderEvent.Kind.CANCELLED)
    assert event.by_customer and event.by is None
    board = staff_client.get(f"/staff/{shop.slug}/").content.decode()
    assert "Cancelled by the customer:" in board and "Changed my mind" in board


def test_after_the_stage_cancelling_is_refused_and_explained(
    shop: Shop, staff: object, client: Client
) -> None:
    order = cafe(shop, staff, steps=1)  # past "Order received"
    page = client.get(f"/t/{order.token}/?lang=en").content.decode()
    assert "Cancel order" not in page
    assert "It can no longer be cancelled here" in page and shop.phone in page
    answer = post(client, order, "cancel")
    assert answer.status_code == 409
    order.refresh_from_db()
    assert order.state == Order.State.ACTIVE


def test_a_workflow_that_allows_no_cancelling_offers_none(
    shop: Shop, staff: object, client: Client, order: Order
) -> None:
    order.workflow.customer_cancel_until = None
    order.workflow.save()
    page = client.get(f"/t/{order.token}/?lang=en").content.decode()
    assert "Cancel order" not in page and "no longer be cancelled" not in page
    assert post(client, order, "cancel").status_code == 409


def test_got_it_at_pickup_closes_the_order_and_the_staff_see_it(
    shop: Shop, staff: object, client: Client, staff_client: Client
) -> None:
    shop.address = "Main St 1, Moscow"
    shop.save()
    order = cafe(shop, staff, steps=2)  # ready for pickup
    page = client.get(f"/t/{order.token}/?lang=en").content.decode()
    assert "Where to collect it" in page and "Main St 1, Moscow" in page
    assert "https://www.openstreetmap.org/search?query=Main%20St%201%2C%20Moscow" in page
    assert "Got it — all good" in page
    answer = post(client, order, "confirm")
    assert answer.status_code == 200
    order.refresh_from_db()
    assert order.state == Order.State.COMPLETED and order.last_action == "confirmed"
    assert order.stage == order.workflow.stages.last()
    html = answer.content.decode()
    assert "Got it — all good" not in html and "You confirmed that all is good" in html
    assert (
        "The customer confirmed: all good."
        in staff_client.get(f"/staff/{shop.slug}/").content.decode()
    )
    assert post(client, order, "confirm").status_code == 409  # once


def test_got_it_before_pickup_is_refused(shop: Shop, staff: object, client: Client) -> None:
    order = cafe(shop, staff)
    assert "Got it" not in client.get(f"/t/{order.token}/?lang=en").content.decode()
    assert post(client, order, "confirm").status_code == 409
    order.refresh_from_db()
    assert order.state == Order.State.ACTIVE


def test_the_console_sets_what_customers_may_do_with_its_own_stages_only(
    shop: Shop, other_shop: Shop, staff: object
) -> None:
    from tests.test_console import _client, _owner

    owner = _client(_owner(shop, "olga"))
    workflow = shop.workflows.get(key="pizza")
    form = {"name_ru": "Пицца", "name_en": "Pizza", "customer_confirms": "on"}
    second = workflow.stages.all()[1]
    url = f"/staff/{shop.slug}/settings/workflows/{workflow.pk}/"
    assert owner.post(url, {**form, "customer_cancel_until": second.pk}).status_code == 302
    workflow.refresh_from_db()
    assert workflow.customer_cancel_until == second and workflow.customer_confirms
    foreign = other_shop.workflows.first().stages.first()
    assert owner.post(url, {**form, "customer_cancel_until": foreign.pk}).status_code == 422
    workflow.refresh_from_db()
    assert workflow.customer_cancel_until == second


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_built_in_workflows_say_what_customers_may_do(db: None, lang: str) -> None:
    shop = Shop.objects.create(slug="n", name="N")
    cafe_flow = install_template(shop, "cafe")
    assert cafe_flow.customer_cancel_until.position == 1 and cafe_flow.customer_confirms
    with translation.override(lang):
        assert cafe_flow.customer_cancel_until.name
