"""Tickets and QR codes: the staff's printable ticket, the QR alone for a POS."""

import pytest
from django.test import Client

from orders import services
from orders.models import Order
from orders.notifications import tracking_url


def test_the_ticket_has_the_shop_number_items_promise_and_qr(
    staff_client: Client, order: Order, staff
) -> None:
    services.edit_details(order=order, by=staff, changes={"summary": "2 × Margherita"})
    for width in ("", "58"):
        response = staff_client.get(f"/staff/orders/{order.pk}/ticket/?width={width}")
        html = response.content.decode()
        assert response.status_code == 200
        assert "Pizzeria" in html and "Order 1042" in html and "2 × Margherita" in html
        assert "Expected:" in html and "<svg" in html and tracking_url(order) in html
        assert f"ticket-{width or 80}" in html
    # No phone or e-mail of the customer on a ticket left on a counter.
    assert "111-22-33" not in html and "maria@" not in html


def test_a_ticket_of_another_shops_order_is_not_found(
    stranger_client: Client, order: Order, client: Client
) -> None:
    assert stranger_client.get(f"/staff/orders/{order.pk}/ticket/").status_code == 404
    response = client.get(f"/staff/orders/{order.pk}/ticket/")
    assert response.status_code == 302 and "/staff/login/" in response["Location"]


@pytest.mark.parametrize(
    ("kind", "content_type", "start"),
    [("svg", "image/svg+xml", b"<?xml"), ("png", "image/png", b"\x89PNG")],
)
def test_the_qr_code_alone_for_a_pos(
    client: Client, order: Order, kind: str, content_type: str, start: bytes
) -> None:
    response = client.get(f"/t/{order.token}/qr.{kind}")
    assert response.status_code == 200 and response["Content-Type"] == content_type
    assert response.content.startswith(start)
    assert client.get(f"/t/{'x' * 24}/qr.{kind}").status_code == 404
    assert client.get(f"/t/{order.token}/qr.gif").status_code == 404


def test_the_qr_code_reads_back_as_the_tracking_link(client: Client, order: Order) -> None:
    import io

    import zxingcpp
    from PIL import Image

    png = client.get(f"/t/{order.token}/qr.png").content
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert code.text == tracking_url(order)


def test_a_pos_gets_the_printable_ticket_through_the_api(order: Order, shop, other_shop) -> None:
    from api.models import ApiKey

    key = ApiKey(shop=shop, name="POS", can_write=False)
    raw = key.issue()
    key.save()
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = api.get(f"/api/v1/orders/{order.number}/ticket?width=58")
    html = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert "ticket-58" in html and "<svg" in html and tracking_url(order) in html
    assert api.get(f"/api/v1/orders/{order.number}/ticket?width=99").status_code == 422
    assert api.get("/api/v1/orders/nope/ticket").status_code == 404
    other = ApiKey(shop=other_shop, name="Theirs")
    theirs = other.issue()
    other.save()
    foreign = Client(HTTP_AUTHORIZATION=f"Bearer {theirs}")
    assert foreign.get(f"/api/v1/orders/{order.number}/ticket").status_code == 404
