"""The core loop in real Chromium: a staff tap moves a separate customer's bar live."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.servers import customer_page, staff_page

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LIVE = 10_000  # ms: generous upper bound for a push; speed is measured in bench/, not here


def wait_live(page: object) -> None:
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live", timeout=LIVE)


def test_a_staff_tap_moves_the_customers_bar_without_reload(browser, server) -> None:
    url = server.new_order("E2E-1")
    customer = customer_page(browser, url)
    bar = customer.get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuenow", "1")
    expect(bar).to_have_attribute("aria-valuetext", "Order received")
    wait_live(customer)
    customer.evaluate("window.__loads = performance.getEntriesByType('navigation').length")

    staff = staff_page(browser, server)
    staff.get_by_role("button", name="Advance order E2E-1 to Preparing").click()

    expect(bar).to_have_attribute("aria-valuenow", "2", timeout=LIVE)
    expect(bar).to_have_attribute("aria-valuetext", "Preparing")
    expect(customer.locator("#announce")).to_have_text("Order E2E-1: Preparing")
    assert customer.evaluate("window.__loads") == 1  # same document: no reload happened
    expect(staff.locator("#flash")).to_have_text("Order E2E-1: Preparing.")

    staff.get_by_role("button", name="Advance order E2E-1 to Baking").click()
    expect(bar).to_have_attribute("aria-valuetext", "Baking", timeout=LIVE)
    customer.context.close()
    staff.context.close()


def test_a_double_tap_on_the_tablet_advances_once(browser, server) -> None:
    url = server.new_order("E2E-DT")
    customer = customer_page(browser, url)
    wait_live(customer)
    staff = staff_page(browser, server)
    staff.get_by_role("button", name="Advance order E2E-DT to Preparing").dblclick()
    expect(staff.locator("#flash")).to_have_text("Order E2E-DT: Preparing.", timeout=LIVE)
    expect(staff.get_by_role("button", name="Advance order E2E-DT to Baking")).to_be_visible()
    expect(customer.get_by_role("progressbar")).to_have_attribute(
        "aria-valuetext", "Preparing", timeout=LIVE
    )
    # Every request has been answered (the flash says so): one change, not two.
    steps = server.manage(
        "shell",
        "-c",
        "from orders.models import Order; "
        "print(Order.objects.get(number='E2E-DT').events.filter(kind='advanced').count())",
    )
    assert steps.strip().splitlines()[-1] == "1"
    customer.context.close()
    staff.context.close()


def test_two_staff_tablets_stay_in_sync(browser, server) -> None:
    server.new_order("E2E-2")
    tablet_a = staff_page(browser, server, width=768)
    tablet_b = staff_page(browser, server, width=1280)
    wait_live(tablet_b)
    tablet_a.get_by_role("button", name="Advance order E2E-2 to Preparing").click()
    expect(tablet_b.get_by_role("button", name="Advance order E2E-2 to Baking")).to_be_visible(
        timeout=LIVE
    )
    # An order created on one tablet appears on the other.
    tablet_b.get_by_text("New order", exact=True).click()
    tablet_b.fill("#id_number", "E2E-3")
    tablet_b.fill("#id_customer_name", "Ivan")
    tablet_b.get_by_role("button", name="Create order").click()
    expect(tablet_a.get_by_role("button", name="Advance order E2E-3 to Preparing")).to_be_visible(
        timeout=LIVE
    )
    tablet_a.context.close()
    tablet_b.context.close()


def test_a_stale_tablet_gets_a_clear_message_and_a_fresh_board(browser, server) -> None:
    server.new_order("E2E-4")
    # This tablet's socket opens but never reaches the server: it misses every push.
    tablet = staff_page(browser, server, deaf=True)
    button = tablet.get_by_role("button", name="Advance order E2E-4 to Preparing")
    expect(button).to_be_visible()
    server.manage("shell", "-c", _ADVANCE_BY_BORIS % "E2E-4")
    button.click()
    expect(tablet.locator("#flash")).to_contain_text("already moved to “Preparing” by Boris")
    expect(tablet.get_by_role("button", name="Advance order E2E-4 to Baking")).to_be_visible()
    tablet.context.close()


def test_the_customer_page_speaks_russian_and_fits_a_phone(browser, server) -> None:
    url = server.new_order("E2E-5")
    customer = customer_page(browser, url, locale="ru-RU")
    expect(customer.get_by_role("progressbar")).to_have_attribute("aria-valuetext", "Заказ принят")
    expect(customer.get_by_role("heading", level=1)).to_have_text("Заказ E2E-5")
    width = customer.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    customer.context.close()


def test_the_page_reconnects_after_a_clean_close_and_resyncs(browser, server) -> None:
    url = server.new_order("E2E-6")
    sockets = []

    def relay(ws: object) -> None:
        sockets.append((ws, ws.connect_to_server()))

    customer = customer_page(browser, url, on_socket=relay)
    wait_live(customer)
    # A clean close (1000), as Daphne's idle timeout or a deploy sends: htmx's
    # ws extension alone would never reconnect after it.
    page_side, server_side = sockets[0]
    page_side.close(code=1000)
    server_side.close(code=1000)
    server.manage("shell", "-c", _ADVANCE_BY_BORIS % "E2E-6")  # a change it must not miss
    bar = customer.get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuetext", "Preparing", timeout=LIVE)
    wait_live(customer)
    assert len(sockets) >= 2
    customer.context.close()


def test_an_estimate_that_has_passed_is_asked_for_again(browser, server) -> None:
    url = server.new_order("E2E-ETA")
    customer = customer_page(browser, url, clock=True)
    wait_live(customer)
    eta = int(customer.locator("#progress").get_attribute("data-eta")) * 1000
    with customer.expect_request("**/progress/**", timeout=LIVE) as asked:
        customer.clock.fast_forward(eta - customer.evaluate("Date.now()") + 10_000)
    assert asked.value.url.endswith("/progress/?lang=en")
    customer.context.close()


def test_the_page_polls_when_the_socket_cannot_connect(browser, polling_server) -> None:
    url = polling_server.new_order("E2E-7")
    customer = customer_page(browser, url, on_socket=lambda ws: ws.close())
    bar = customer.get_by_role("progressbar")
    expect(customer.locator("#live-status")).to_have_attribute(
        "data-state", "polling", timeout=LIVE
    )
    polling_server.manage("shell", "-c", _ADVANCE_BY_BORIS % "E2E-7")
    expect(bar).to_have_attribute("aria-valuetext", "Preparing", timeout=LIVE)
    # Created, opened by the customer, advanced.
    expect(customer.locator("#progress")).to_have_attribute("data-version", "3")
    customer.context.close()


def test_offline_keeps_the_last_state_and_coming_back_online_resyncs(browser, server) -> None:
    # No socket ever opens and polling is ten minutes away: only the page's own
    # "online" resync can bring the change made while it was offline.
    url = server.new_order("E2E-OFF")
    customer = customer_page(browser, url, on_socket=lambda ws: ws.close())
    bar = customer.get_by_role("progressbar")
    status = customer.locator("#live-status")
    expect(bar).to_have_attribute("aria-valuetext", "Order received")
    customer.context.set_offline(True)
    expect(status).to_have_attribute("data-state", "offline", timeout=LIVE)
    expect(status).to_contain_text("You are offline; showing the last known state.")
    server.manage("shell", "-c", _ADVANCE_BY_BORIS % "E2E-OFF")
    expect(bar).to_have_attribute("aria-valuetext", "Order received")  # the last state stays
    customer.context.set_offline(False)
    expect(bar).to_have_attribute("aria-valuetext", "Preparing", timeout=LIVE)
    expect(status).not_to_have_attribute("data-state", "offline")
    customer.context.close()


@pytest.mark.parametrize("width", [768, 1280])
def test_the_board_is_touch_friendly_at_tablet_widths(browser, server, width: int) -> None:
    server.new_order(f"E2E-T{width}")
    tablet = staff_page(browser, server, width=width)
    sizes = tablet.evaluate(
        """() => [...document.querySelectorAll('button, input:not([type=hidden]), select, summary')]
             .filter(el => el.offsetParent !== null)
             // A control wrapped in its label is tapped through the whole label.
             .map(el => [el.outerHTML.slice(0, 60),
                         (el.closest('label') || el).getBoundingClientRect().height])"""
    )
    small = [(html, h) for html, h in sizes if h < 48]
    assert sizes and not small, small
    assert tablet.evaluate("document.documentElement.scrollWidth") <= width
    tablet.context.close()


def test_staff_report_a_delay_and_the_customer_sees_it_live(browser, server) -> None:
    url = server.new_order("E2E-8")
    customer = customer_page(browser, url)
    wait_live(customer)
    staff = staff_page(browser, server)
    staff.get_by_role("link", name="More for order E2E-8").click()
    panel = staff.locator("#panel")
    panel.get_by_label("Why is it late?").fill("The oven is being repaired")
    panel.get_by_label("What are we doing about it?").fill("Baking in our second oven")
    panel.get_by_role("button", name="Mark order E2E-8 delayed").click()
    notice = customer.locator(".notice-delayed")
    expect(notice).to_contain_text("The oven is being repaired", timeout=LIVE)
    expect(notice).to_contain_text("Baking in our second oven")
    expect(customer.locator("#announce")).to_have_text(
        "Order E2E-8 is delayed: The oven is being repaired"
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    customer.screenshot(path=SHOTS / "tracker-delayed-phone.png", full_page=True)
    # The panel stays open, now offering the way back.
    panel.get_by_role("button", name="Order E2E-8 is on track again").click()
    expect(notice).to_have_count(0, timeout=LIVE)
    customer.context.close()
    staff.context.close()


def test_a_push_never_closes_a_panel_or_loses_what_staff_are_typing(browser, server) -> None:
    server.new_order("E2E-9")
    server.new_order("E2E-10")
    tablet = staff_page(browser, server)
    wait_live(tablet)
    tablet.get_by_role("link", name="More for order E2E-9").click()
    panel = tablet.locator("#panel")
    reason = panel.get_by_label("Why is it late?")
    reason.fill("Half-typed reas")
    # Another tablet moves another order: its tile is pushed to this one.
    other = staff_page(browser, server)
    other.get_by_role("button", name="Advance order E2E-10 to Preparing").click()
    moved = tablet.get_by_role("button", name="Advance order E2E-10 to Baking")
    expect(moved).to_be_attached(timeout=LIVE)
    expect(panel).to_have_attribute("open", "")
    expect(reason).to_have_value("Half-typed reas")
    expect(reason).to_be_focused()
    tablet.context.close()
    other.context.close()


def test_a_push_keeps_what_the_customer_is_typing_and_their_send_starts_afresh(
    browser, server
) -> None:
    url = server.new_order("E2E-11")
    customer = customer_page(browser, url)
    wait_live(customer)
    customer.get_by_text("Report a problem").click()
    text = customer.get_by_label("What went wrong?")
    text.fill("The courier called tw")
    staff = staff_page(browser, server)
    staff.get_by_role("button", name="Advance order E2E-11 to Preparing").click()
    bar = customer.get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuetext", "Preparing", timeout=LIVE)
    # The bar moved; the open form and the half-typed text did not.
    expect(customer.locator("#problem")).to_have_attribute("open", "")
    expect(text).to_have_value("The courier called tw")
    text.fill("The courier called twice")
    customer.get_by_role("button", name="Send to the shop").click()
    expect(customer.locator(".care-message")).to_be_visible(timeout=LIVE)
    expect(customer.get_by_label("What went wrong?")).to_have_value("")
    customer.context.close()
    staff.context.close()


def test_screenshots_of_the_tracker_and_the_board(browser, server) -> None:
    url = server.new_order("1050")
    staff = staff_page(browser, server, width=1024)
    staff.get_by_role("button", name="Advance order 1050 to Preparing").click()
    expect(staff.get_by_role("button", name="Advance order 1050 to Baking")).to_be_visible()
    customer = customer_page(browser, url)
    wait_live(customer)
    SHOTS.mkdir(parents=True, exist_ok=True)
    customer.screenshot(path=SHOTS / "tracker-phone.png", full_page=True)
    staff.screenshot(path=SHOTS / "board-tablet.png", full_page=True)
    assert (SHOTS / "tracker-phone.png").stat().st_size > 10_000
    customer.context.close()
    staff.context.close()


_ADVANCE_BY_BORIS = """
from django.contrib.auth import get_user_model
from orders import services
from orders.models import Membership, Order
boris, _ = get_user_model().objects.get_or_create(
    username="boris", defaults={"first_name": "Boris"}
)
order = Order.objects.get(shop__slug="demo", number="%s")
Membership.objects.get_or_create(user=boris, shop=order.shop)
services.advance_order(order=order, by=boris, expected_version=order.version)
"""
