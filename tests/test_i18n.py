"""Russian and English from day one: the catalogue is complete and pages use it."""

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from orders import services
from orders.models import Order
from orders.views_public import browser_languages

PO = Path(__file__).resolve().parents[1] / "locale" / "ru" / "LC_MESSAGES" / "django.po"


def entries() -> list[tuple[str, list[str], str]]:
    """(msgid, msgstrs, flags) for every entry but the header."""
    found = []
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        flags = " ".join(line for line in block.splitlines() if line.startswith("#,"))
        texts: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                texts[key] = match.group(2)
            elif line.startswith('"') and key:
                texts[key] += line[1:-1]
        if texts.get("msgid"):
            found.append(
                (texts["msgid"], [v for k, v in texts.items() if k.startswith("msgstr")], flags)
            )
    return found


def test_every_russian_message_is_translated_and_none_is_fuzzy() -> None:
    missing = [msgid for msgid, strs, _ in entries() if not all(strs)]
    fuzzy = [msgid for msgid, _, flags in entries() if "fuzzy" in flags]
    assert len(entries()) > 150
    assert not missing, missing
    assert not fuzzy, fuzzy


def test_russian_plurals_have_every_form() -> None:
    plurals = [(m, s) for m, s, _ in entries() if len(s) > 1]
    assert plurals and all(len(s) == 4 for _, s in plurals)


ENGLISH_ONLY = re.compile(
    r"\b(Order|Expected|Promised|Updates|delayed|running late|Hello|Now|Questions|Call|"
    r"Advance|Undo|Cancel|New order|active order|Sign out|Note|Live)\b"
)


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<!--.*?-->", " ", html, flags=re.S)
    # Attribute values a person hears (aria-label, aria-valuetext) count too.
    spoken = " ".join(re.findall(r'aria-(?:label|valuetext)="([^"]*)"', html))
    return re.sub(r"<[^>]+>", " ", html) + " " + spoken


@pytest.mark.parametrize("state", ["active", "delayed", "promised", "cancelled", "completed"])
def test_russian_tracking_pages_have_no_english_left(
    client: Client, order: Order, staff, state: str
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    if state == "delayed":
        services.delay_order(order=order, by=staff, expected_version=1, reason="Пробки")
    elif state == "promised":
        soon = timezone.now() + timedelta(hours=2)
        services.set_promise(order=order, by=staff, expected_version=1, start=soon, end=soon)
    elif state == "cancelled":
        services.cancel_order(order=order, by=staff, expected_version=1, reason="Нет теста")
    elif state == "completed":
        for _ in range(4):
            order = services.advance_order(order=order, by=staff, expected_version=order.version)
    services.add_note(order=order, by=staff, text="Салфетки в пакете", public=True)
    order.shop.name = "Пиццерия"
    order.shop.save()
    Order.objects.filter(pk=order.pk).update(customer_name="Мария")
    html = client.get(f"/t/{order.token}/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Заказ" in html
    assert not ENGLISH_ONLY.findall(visible_text(html))
    english = client.get(f"/t/{order.token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ENGLISH_ONLY.findall(visible_text(english))  # the check can see English


def test_the_russian_staff_board_has_no_english_left(client: Client, order: Order, staff) -> None:
    staff.username = "anna"
    services.delay_order(order=order, by=staff, expected_version=1, reason="Пробки")
    client.force_login(staff)
    html = client.get(
        reverse("orders:shop_board", args=["pizzeria"]), HTTP_ACCEPT_LANGUAGE="ru"
    ).content.decode()
    assert "Задержка" in html
    assert not ENGLISH_ONLY.findall(visible_text(html).replace("Maria Ivanova", ""))


def test_dates_read_like_6_marta_and_times_are_24_hour(client: Client, order: Order, staff) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    march = datetime(2026, 3, 6, 21, 5, tzinfo=ZoneInfo(order.shop.timezone))
    order.events.update(created_at=march)
    html = client.get(f"/t/{order.token}/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "6 марта, 21:05" in html
    html = client.get(f"/t/{order.token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "6 March, 21:05" in html


def test_the_switcher_overrides_the_browser_and_keeps_polling_in_that_language(
    client: Client, order: Order
) -> None:
    html = client.get(f"/t/{order.token}/?lang=ru", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="ru">' in html and "Заказ 1042" in html
    assert f'data-resync-url="/t/{order.token}/progress/?lang=ru"' in html
    assert f'ws-connect="/ws/t/{order.token}/?lang=ru"' in html
    assert '<a href="?lang=en" lang="en" hreflang="en">English</a>' in html
    partial = client.get(f"/t/{order.token}/progress/?lang=ru", HTTP_ACCEPT_LANGUAGE="en")
    assert "Заказ 1042" in partial.content.decode()


@pytest.mark.parametrize("lang", ["de", "", "ru%00", "<script>"])
def test_an_unknown_language_choice_is_ignored(client: Client, order: Order, lang: str) -> None:
    response = client.get(f"/t/{order.token}/?lang={lang}", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and '<html lang="en">' in response.content.decode()


def test_russian_embed_lookup_and_unsubscribe_pages_have_no_english_left(
    client: Client, order: Order
) -> None:
    order.shop.name = "Пиццерия"
    order.shop.save()
    pages = {
        "embed": f"/t/{order.token}/embed/",
        "lookup": "/track/pizzeria/",
        "unsubscribe": f"/t/{order.token}/unsubscribe/",
    }
    for name, url in pages.items():
        html = client.get(url, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
        assert not ENGLISH_ONLY.findall(visible_text(html)), name
        assert re.search(r"Отследить заказ|Заказ 1042|Отписаться", html), name
    failed = client.post(
        "/track/pizzeria/", {"number": "1", "contact": "x@y.z"}, HTTP_ACCEPT_LANGUAGE="ru"
    )
    assert "Не нашли заказ с таким номером" in failed.content.decode()


def test_the_russian_estimate_reads_as_a_sentence(client: Client, order: Order) -> None:
    html = client.get(f"/t/{order.token}/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    # "к завтра 00:37" is not Russian; "Ожидаем примерно: сегодня 19:40" is.
    assert re.search(r"Ожидаем примерно: <strong>(сегодня|завтра) \d\d:\d\d</strong>", html)


def test_a_shop_that_says_ty_says_it_on_the_tracker_too(
    client: Client, order: Order, staff
) -> None:
    order.shop.address_form = "ty"
    order.shop.language = "ru"
    order.shop.save()
    services.delay_order(order=order, by=staff, expected_version=1, reason="Пробки")
    page = client.get(f"/t/{order.token}/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Привет, Maria!" in page and "Твой заказ задерживается" in page
    assert "Здравствуйте" not in page and "Ваш заказ" not in page
    assert '<html lang="ru">' in page
    # Neutral texts come from the one Russian catalogue.
    assert "Отследить заказ" in client.get("/track/pizzeria/?lang=ru").content.decode()
    lookup = client.get("/track/pizzeria/?lang=ru").content.decode()
    assert "Введи номер заказа" in lookup
    # A shop that says вы keeps it.
    order.shop.address_form = "vy"
    order.shop.save()
    services.add_note(order=order, by=staff, text="Скоро будем", public=True)  # a new version
    formal = client.get(f"/t/{order.token}/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Здравствуйте, Maria!" in formal and "Ваш заказ задерживается" in formal


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-US,en;q=0.9,ru;q=0.8", ["en-us", "en", "ru"]),
        ("ru;q=0.1, en;q=0.5", ["en", "ru"]),
        ("fr;q=0.5,RU", ["ru", "fr"]),
        ("de, en;q=0", ["de"]),
        ("en;q=2, ;;, " * 30 + "ru", []),  # malformed, and past the first 20 entries
    ],
)
def test_the_browsers_languages_are_read_most_wanted_first(header: str, expected: list) -> None:
    assert browser_languages(header) == expected
