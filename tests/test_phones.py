"""Customers' phone numbers: read in the shop's country, stored in E.164, found by any form."""

import importlib

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse

from orders import services
from orders.models import Order, Shop
from orders.workflow_templates import install_template
from tests.test_api import Api, issue
from tests.test_embed import lookup

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def london(db: None) -> Shop:
    shop = Shop.objects.create(slug="london", name="Cleaners", phone="+44 20 7946 0000")
    install_template(shop, "cafe")
    return shop


def _order(shop: Shop, phone: str, number: str = "1") -> Order:
    return services.create_order(
        shop=shop,
        workflow=shop.workflows.first(),
        number=number,
        customer_name="Pat",
        phone=phone,
    )


@pytest.mark.parametrize("typed", ["+7 900 111-22-33", "8 (900) 111-22-33", "900 111 22 33"])
def test_a_number_is_stored_in_e164_however_it_was_typed(shop: Shop, typed: str) -> None:
    assert _order(shop, typed).phone == "+79001112233"


def test_a_shop_abroad_reads_local_numbers_in_its_own_country(london: Shop) -> None:
    order = _order(london, "020 7946 0019")
    assert order.phone == "+442079460019"
    for typed in ("020 7946 0019", "+44 20 7946 0019", "+44 (0)20 7946 0019"):
        found = lookup(Client(), "1", typed, url="/track/london/")
        assert found.status_code == 302, typed
    # The same last ten digits in another country is another person.
    other = lookup(Client(), "1", "+7 207 946-00-19", url="/track/london/")
    assert other.status_code == 404


def test_the_board_form_refuses_what_cannot_be_a_number_and_keeps_nothing(
    staff_client: Client, shop: Shop
) -> None:
    data = {
        "number": "77",
        "customer_name": "Ivan",
        "workflow": shop.workflows.get(key="pizza").pk,
        "phone": "+7 900",
    }
    response = staff_client.post(reverse("orders:create", args=[shop.slug]), data, **HX)
    assert response.status_code == 422
    assert "Enter a phone number" in response.content.decode()
    assert not Order.objects.filter(number="77").exists()
    data["phone"] = "8 900 123 45 67"
    staff_client.post(reverse("orders:create", args=[shop.slug]), data, **HX)
    assert Order.objects.get(number="77").phone == "+79001234567"


def test_the_api_stores_e164_and_refuses_an_impossible_number(shop: Shop) -> None:
    api = Api(issue(shop))
    body = {"number": "A1", "customer_name": "Pat", "phone": "8 900 123-45-67"}
    assert api.post("/orders", body).status_code == 201
    assert Order.objects.get(number="A1").phone == "+79001234567"
    refused = api.post("/orders", {**body, "number": "A2", "phone": "+7 900"})
    assert refused.status_code == 422
    assert "phone" in refused.json()["detail"]
    assert not Order.objects.filter(number="A2").exists()


def test_a_corrected_number_is_stored_in_e164_too(order: Order, staff: object) -> None:
    services.edit_details(order=order, by=staff, changes={"phone": "8 912 345 67 89"})
    order.refresh_from_db()
    assert order.phone == "+79123456789"
    with pytest.raises(services.ActionRefused):
        services.edit_details(order=order, by=staff, changes={"phone": "12"})


def test_the_shops_call_link_dials_from_anywhere(london: Shop) -> None:
    assert london.phone_href == "tel:+442079460000"
    # Typed without its code, it is read in TRACKER_PHONE_REGION (RU), where it cannot
    # be a number: the link keeps its digits rather than invent a country code.
    london.phone = "020 7946 0000"
    assert london.phone_href == "tel:02079460000"
    london.phone = "8 (900) 000-00-00"
    assert london.phone_href == "tel:+79000000000"


def test_orders_made_before_are_converted_and_unreadable_ones_kept(
    shop: Shop, london: Shop
) -> None:
    ru, gb, odd = _order(shop, ""), _order(london, ""), _order(shop, "", number="2")
    Order.objects.filter(pk=ru.pk).update(phone="8 (900) 111-22-33")
    Order.objects.filter(pk=gb.pk).update(phone="020 7946 0019")
    Order.objects.filter(pk=odd.pk).update(phone="ext. 5")
    migration = importlib.import_module("orders.migrations.0016_order_phone_e164")
    migration.to_e164(apps, None)
    phones = dict(Order.objects.values_list("pk", "phone"))
    assert phones[ru.pk] == "+79001112233"
    assert phones[gb.pk] == "+442079460019"
    assert phones[odd.pk] == "ext. 5"
