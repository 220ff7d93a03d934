"""The embed, its per-shop frame-ancestors, the strict CSP everywhere, and order lookup."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from orders import services
from orders.models import Order, Shop

SHOP_SITE = "https://pizzeria.example"


@pytest.fixture
def embeddable_shop(shop: Shop) -> Shop:
    shop.embed_origins = f"{SHOP_SITE}\nhttp://127.0.0.1:8081/\n"
    shop.save()
    return shop


def csp(response: object) -> dict[str, str]:
    parts = [p.strip().split(" ", 1) for p in response["Content-Security-Policy"].split(";")]
    return {name: value for name, value in parts}


def test_the_embed_may_be_framed_only_by_the_shops_origins(
    client: Client, embeddable_shop: Shop, order: Order
) -> None:
    response = client.get(f"/t/{order.token}/embed/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert csp(response)["frame-ancestors"] == f"{SHOP_SITE} http://127.0.0.1:8081"
    assert "X-Frame-Options" not in response
    html = response.content.decode()
    assert 'class="public embed"' in html
    assert 'class="shop-title"' not in html  # no site chrome
    assert "Order 1042" in html
    assert f'ws-connect="/ws/t/{order.token}/?lang=en"' in html
    assert "Questions about your order?" in html  # the shop's contacts stay


def test_a_shop_that_lists_no_origin_is_not_embeddable(
    client: Client, shop: Shop, order: Order
) -> None:
    response = client.get(f"/t/{order.token}/embed/")
    assert csp(response)["frame-ancestors"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"


def test_the_transparent_option_and_the_language_switch_keep_each_other(
    client: Client, embeddable_shop: Shop, order: Order
) -> None:
    html = client.get(f"/t/{order.token}/embed/?transparent=1&lang=ru").content.decode()
    assert 'class="public embed transparent"' in html
    assert 'href="?lang=en&amp;transparent=1"' in html
    assert "Заказ 1042" in html


def test_staff_only_notes_never_reach_the_embed(
    client: Client, embeddable_shop: Shop, order: Order, staff: object
) -> None:
    services.add_note(order=order, by=staff, text="Customer was rude", public=False)
    services.add_note(order=order, by=staff, text="Extra napkins on the way", public=True)
    html = client.get(f"/t/{order.token}/embed/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Extra napkins on the way" in html
    assert "Customer was rude" not in html


@pytest.mark.parametrize(
    "bad", ["https://shop.example/path", "shop.example", "javascript:alert(1)", "https://a b"]
)
def test_embed_origins_must_be_origins(shop: Shop, bad: str) -> None:
    shop.embed_origins = bad
    with pytest.raises(ValidationError):
        shop.full_clean()


def test_every_other_page_keeps_a_strict_policy(
    client: Client, staff_client: Client, shop: Shop, order: Order
) -> None:
    pages = [
        client.get(f"/t/{order.token}/"),
        client.get("/track/"),
        client.get(f"/t/{order.token}/unsubscribe/"),
        client.get("/staff/login/"),
        client.get("/t/" + "z" * 24 + "/"),
        staff_client.get(f"/staff/{shop.slug}/"),
    ]
    for response in pages:
        policy = csp(response)
        assert policy["frame-ancestors"] == "'self'", response.request["PATH_INFO"]
        assert response["X-Frame-Options"] == "DENY"
        assert policy["script-src"] == "'self'"
        assert "unsafe" not in response["Content-Security-Policy"]
        html = response.content.decode()
        # Nothing inline that the policy would block: no inline script, no style attribute.
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), response.request["PATH_INFO"]
        assert " style=" not in html
        nonce = re.search(r"'nonce-([^']+)'", policy["style-src"])[1]
        for tag in re.findall(r"<style[^>]*>", html):
            assert f'nonce="{nonce}"' in tag


def test_the_nonce_is_new_on_every_response(client: Client, order: Order) -> None:
    first = client.get(f"/t/{order.token}/")["Content-Security-Policy"]
    second = client.get(f"/t/{order.token}/")["Content-Security-Policy"]
    assert first != second


# --- Lookup ---------------------------------------------------------------------------


def lookup(client: Client, number: str, contact: str, url: str = "/track/pizzeria/", **extra):
    return client.post(url, {"number": number, "contact": contact}, **extra)


@pytest.mark.parametrize(
    "contact", ["+7 900 111-22-33", "8 (900) 111-22-33", "9001112233", "MARIA@example.com"]
)
def test_lookup_by_number_and_phone_or_email_opens_the_tracker(
    client: Client, order: Order, contact: str
) -> None:
    response = lookup(client, "1042", contact, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    assert response["Location"] == f"/t/{order.token}/?lang=en"


def test_the_site_wide_lookup_finds_the_order_without_a_shop(client: Client, order: Order) -> None:
    response = lookup(client, "1042", "maria@example.com", url="/track/")
    assert response["Location"].startswith(f"/t/{order.token}/")


def test_a_wrong_pair_and_an_unknown_number_get_the_same_answer(
    client: Client, order: Order
) -> None:
    wrong = lookup(client, "1042", "+7 999 000-00-00", HTTP_ACCEPT_LANGUAGE="en")
    unknown = lookup(client, "9999", "+7 900 111-22-33", HTTP_ACCEPT_LANGUAGE="en")
    assert wrong.status_code == unknown.status_code == 404
    message = "We could not find an order with this number and phone or e-mail."
    assert message in wrong.content.decode()
    assert message in unknown.content.decode()
    strip = lambda r: re.sub(r'value="[^"]*"|nonce[-=]"?[\w-]+', "", r.content.decode())  # noqa: E731
    assert strip(wrong) == strip(unknown)


def test_lookup_is_rate_limited_per_client_across_every_lookup_form(
    client: Client, order: Order, other_order: Order, settings
) -> None:
    settings.TRACKER_LOOKUP_ATTEMPTS = 3
    lookup(client, "1042", "wrong@example.com")
    lookup(client, "7", "wrong@example.com", url="/track/other/")  # another shop's form
    assert lookup(client, "1042", "wrong@example.com", url="/track/").status_code == 404
    refused = lookup(client, "1042", "maria@example.com", HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 429
    assert re.search(
        r"Too many attempts\. Please try again in \d+ minutes?\.", refused.content.decode()
    )
    assert lookup(client, "7", "x@example.com", url="/track/other/").status_code == 429
    # Another client is not held back; a found order does not use up a try.
    for _ in range(5):
        found = lookup(client, "1042", "maria@example.com", REMOTE_ADDR="10.0.0.9")
        assert found.status_code == 302


def test_behind_the_proxy_the_limit_counts_the_address_the_proxy_saw(
    client: Client, order: Order, settings
) -> None:
    settings.TRACKER_LOOKUP_ATTEMPTS = 2
    settings.TRACKER_TRUSTED_PROXIES = 1
    # nginx appends the peer it saw (203.0.113.7) after whatever the client wrote.
    for forged in ("1.1.1.1", "2.2.2.2", "3.3.3.3"):
        answer = lookup(
            client,
            "1042",
            "wrong@example.com",
            HTTP_X_FORWARDED_FOR=f"{forged}, 203.0.113.7",
            REMOTE_ADDR=forged,  # what Daphne's --proxy-headers made of it
        )
    assert answer.status_code == 429
    other = lookup(client, "1042", "wrong@example.com", HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert other.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_concurrent_lookups_never_pass_the_limit(order: Order, settings) -> None:
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from django.db import connection

    settings.TRACKER_LOOKUP_ATTEMPTS = 5
    start = Barrier(20, timeout=30)

    def guess(n: int) -> int:
        start.wait()
        try:
            return lookup(Client(), "1042", f"wrong{n}@example.com").status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(guess, range(20)))
    assert answers.count(404) == 5 and answers.count(429) == 15, sorted(answers)


def test_lookup_in_russian_with_plural_minutes(client: Client, order: Order, settings) -> None:
    settings.TRACKER_LOOKUP_ATTEMPTS = 1
    lookup(client, "1", "x@example.com", HTTP_ACCEPT_LANGUAGE="ru")
    refused = lookup(client, "1", "x@example.com", HTTP_ACCEPT_LANGUAGE="ru")
    assert refused.status_code == 429
    assert re.search(
        r"Слишком много попыток\. Попробуйте снова через \d+ минут", refused.content.decode()
    )


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"number": "", "contact": ""},
        {"number": "1" * 41, "contact": "x"},
        {"number": "1\x00", "contact": "a@b.c"},
    ],
)
def test_bad_lookup_input_is_a_clear_400(client: Client, order: Order, data: dict) -> None:
    response = client.post("/track/pizzeria/", data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Please enter the order number and a phone or e-mail." in html
    # Shown as an error, not in the green box that good news uses.
    assert 'class="care-message care-error" role="alert"' in html


def test_the_embedded_lookup_shows_the_shops_contacts(
    client: Client, embeddable_shop: Shop, order: Order
) -> None:
    html = client.get(f"/track/{embeddable_shop.slug}/embed/?lang=en").content.decode()
    assert embeddable_shop.phone in html


def test_the_embedded_lookup_leads_to_the_embedded_tracker(
    client: Client, embeddable_shop: Shop, order: Order
) -> None:
    form = client.get("/track/pizzeria/embed/")
    assert csp(form)["frame-ancestors"] == f"{SHOP_SITE} http://127.0.0.1:8081"
    response = lookup(client, "1042", "maria@example.com", url="/track/pizzeria/embed/")
    assert response["Location"].startswith(f"/t/{order.token}/embed/")


def test_lookup_for_an_unknown_shop_is_a_404(client: Client, db: None) -> None:
    assert client.get("/track/no-such-shop/").status_code == 404


def test_lookup_and_unsubscribe_refuse_other_methods(client: Client, order: Order) -> None:
    assert client.put("/track/pizzeria/").status_code == 405
    assert client.delete(f"/t/{order.token}/unsubscribe/").status_code == 405
    order.refresh_from_db()
    assert order.unsubscribed_at is None
