import re

import pytest
from django.test import Client

from orders.models import Order, Shop, Workflow
from tests.support.adminforms import form_fields, workflow_form


@pytest.fixture
def admin(admin_user: object) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin_user)
    return client


def test_admin_actions_change_orders_through_the_services(admin: Client, order: Order) -> None:
    url = "/admin/orders/order/"
    response = admin.post(url, {"action": "advance", "_selected_action": [order.pk]})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.version == 2 and order.stage.position == 2
    assert order.events.get(version=2).by_name == "admin"
    admin.post(url, {"action": "cancel", "_selected_action": [order.pk]})
    order.refresh_from_db()
    assert order.state == "cancelled" and order.events.count() == 3


def test_admin_shows_order_state_read_only(admin: Client, order: Order) -> None:
    html = admin.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert 'name="stage"' not in html and 'name="version"' not in html
    assert 'name="customer_name"' in html


def test_admin_editing_an_order_cannot_change_its_stage(admin: Client, order: Order) -> None:
    admin.post(
        f"/admin/orders/order/{order.pk}/change/",
        {
            "number": "1042",
            "customer_name": "Maria I.",
            "phone": "",
            "email": "",
            "stage": order.workflow.stages.last().pk,
            "version": 99,
            "events-TOTAL_FORMS": 1,
            "events-INITIAL_FORMS": 1,
        },
    )
    order.refresh_from_db()
    assert order.stage.position == 1 and order.version == 1


def _correct(admin: Client, order: Order, phone: str) -> object:
    """The admin's order form sent back with a new name and this phone."""
    return admin.post(
        f"/admin/orders/order/{order.pk}/change/",
        {
            "number": "1042",
            "customer_name": "Maria Petrova",
            "phone": phone,
            "email": "maria@example.com",
            "summary": "",
            "language": "",
            "events-TOTAL_FORMS": 1,
            "events-INITIAL_FORMS": 1,
            "events-MIN_NUM_FORMS": 0,
            "events-MAX_NUM_FORMS": 0,
            "events-0-id": order.events.get().pk,
            "events-0-order": order.pk,
        },
    )


def test_admin_corrects_details_through_the_service_with_an_event(
    admin: Client, order: Order
) -> None:
    page = admin.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "events-TOTAL_FORMS" in page
    response = _correct(admin, order, phone="+7 900 111-22-44")
    assert response.status_code == 302, response.content.decode()[:2000]
    order.refresh_from_db()
    assert order.customer_name == "Maria Petrova" and order.version == 2
    edited = order.events.get(version=2)
    # The fields, never their values: contacts are private, even in the history.
    assert edited.kind == "edited" and edited.text == "customer_name, phone" and not edited.public
    assert "111-22-44" not in edited.text


def test_admin_installs_and_duplicates_workflows(admin: Client, db: None) -> None:
    shop = Shop.objects.create(slug="new", name="New")
    admin.post(
        "/admin/orders/shop/", {"action": "install_templates", "_selected_action": [shop.pk]}
    )
    keys = set(shop.workflows.values_list("key", flat=True))
    assert keys == {"pizza", "cafe", "shop", "drycleaning", "carrepair", "salon"}
    for workflow in shop.workflows.all():
        assert workflow.name_ru and workflow.name_en
        assert all(s.name_ru and s.name_en for s in workflow.stages.all())
    pizza = shop.workflows.get(key="pizza")
    admin.post("/admin/orders/workflow/", {"action": "duplicate", "_selected_action": [pizza.pk]})
    copy = Workflow.objects.get(shop=shop, key="pizza-2")
    assert copy.stages.count() == pizza.stages.count()


def test_an_api_key_is_shown_once_and_stored_hashed(admin: Client, shop: Shop) -> None:
    from api.models import ApiKey, hash_key

    response = admin.post(
        "/admin/api/apikey/add/", {"shop": shop.pk, "name": "POS", "can_write": "on"}, follow=True
    )
    html = response.content.decode()
    raw = re.search(r"The new key is (trk_[\w-]+)", html)[1]
    key = ApiKey.objects.get()
    assert key.key_hash == hash_key(raw) and raw not in (key.key_hash, key.prefix)
    page = admin.get(f"/admin/api/apikey/{key.pk}/change/").content.decode()
    assert raw not in page  # never shown again
    admin.post("/admin/api/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_the_delivery_log_shows_status_attempts_and_errors_and_can_retry(
    admin: Client, order: Order
) -> None:
    from orders.models import Delivery

    delivery = Delivery.objects.get(channel="email")
    Delivery.objects.filter(pk=delivery.pk).update(
        status="failed", attempts=31, last_error="SMTPServerDisconnected: gone"
    )
    html = admin.get("/admin/orders/delivery/?status=failed").content.decode()
    assert "SMTPServerDisconnected: gone" in html and "31" in html
    admin.post(
        "/admin/orders/delivery/", {"action": "retry_now", "_selected_action": [delivery.pk]}
    )
    delivery.refresh_from_db()
    assert delivery.status == "pending"


def test_message_texts_and_embed_origins_are_edited_on_the_shop_page(
    admin: Client, shop: Shop
) -> None:
    page = admin.get(f"/admin/orders/shop/{shop.pk}/change/").content.decode()
    assert "{eta}" in page  # the placeholders are listed where the texts are edited
    assert 'name="embed_origins"' in page and 'name="address_form"' in page


def test_the_russian_admin_speaks_russian_in_its_columns_and_titles(
    admin: Client, order: Order
) -> None:
    orders = admin.get("/admin/orders/order/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    for header in ("Магазин", "Этап", "Версия", "Создан"):
        assert f">{header}<" in orders or f">{header}</a>" in orders, header
    for english in (">Shop<", ">Stage<", ">Version<", ">Created at<"):
        assert english not in orders
    deliveries = admin.get("/admin/orders/delivery/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Выберите запись об отправке для изменения" in deliveries


def test_shop_members_have_no_admin_even_with_staff_status(
    client: Client, staff, order: Order
) -> None:
    # The admin shows every shop at once: it is for operators (superusers) only.
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    for url in ("/admin/", "/admin/orders/order/", f"/admin/orders/order/{order.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    response = client.post("/admin/api/apikey/add/", {"shop": order.shop_id, "name": "x"})
    assert response.status_code == 302
    from api.models import ApiKey

    assert not ApiKey.objects.exists()


@pytest.mark.parametrize(
    "reorder",
    [
        lambda s: [s[1], s[0], *s[2:]],
        lambda s: [s[-1], *s[:-1]],
        lambda s: [*s[1:], s[0]],
    ],
    ids=["swap", "to-top", "to-bottom"],
)
def test_reordering_stages_in_the_admin_never_errors(admin: Client, order: Order, reorder) -> None:
    workflow = order.workflow
    before = list(workflow.stages.all())
    new = reorder(before)
    positions = {stage.pk: before[n].position for n, stage in enumerate(new)}
    response = admin.post(
        f"/admin/orders/workflow/{workflow.pk}/change/", workflow_form(workflow, positions)
    )
    assert response.status_code == 302
    assert list(workflow.stages.all()) == new
    assert [s.position for s in workflow.stages.all()] == list(range(1, len(new) + 1))
    order.refresh_from_db()
    assert order.stage == before[0]  # the open order stays where it is


def test_a_duplicate_position_is_refused_not_a_500(admin: Client, order: Order) -> None:
    workflow = order.workflow
    first, second = workflow.stages.all()[:2]
    response = admin.post(
        f"/admin/orders/workflow/{workflow.pk}/change/",
        workflow_form(workflow, {second.pk: first.position}),
    )
    assert response.status_code == 200 and "errornote" in response.content.decode()
    assert [s.pk for s in workflow.stages.all()][:2] == [first.pk, second.pk]


def test_a_webhook_secret_is_shown_once_when_made(admin: Client, shop: Shop, settings) -> None:
    settings.TRACKER_WEBHOOKS_ALLOW_PRIVATE = True  # a local receiver: no DNS needed
    page = admin.get(f"/admin/orders/shop/{shop.pk}/change/").content.decode()
    form = form_fields(page)
    form.update(
        {
            "webhooks-TOTAL_FORMS": 1,
            "webhooks-0-url": "http://127.0.0.1:9/hook",
            "webhooks-0-active": "on",
        }
    )
    response = admin.post(f"/admin/orders/shop/{shop.pk}/change/", form, follow=True)
    endpoint = shop.webhooks.get()
    assert endpoint.secret in response.content.decode()
    again = admin.get(f"/admin/orders/shop/{shop.pk}/change/").content.decode()
    assert endpoint.secret not in again


def test_admin_refuses_an_impossible_phone_and_keeps_what_was_typed(
    admin: Client, order: Order
) -> None:
    response = _correct(admin, order, phone="+7 900")
    page = response.content.decode()
    assert response.status_code == 200  # the form again, not a redirect
    assert "Enter a phone number" in page
    assert 'value="Maria Petrova"' in page and 'value="+7 900"' in page
    order.refresh_from_db()
    assert order.version == 1 and order.customer_name == "Maria Ivanova"
