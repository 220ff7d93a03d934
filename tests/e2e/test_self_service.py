"""Customers acting for themselves, in real Chromium: a cancellation the staff see at
once, and "got it — all good" at pickup that closes the order."""

import pytest
from playwright.sync_api import expect

from tests.support.servers import Server, customer_page, staff_page

pytestmark = pytest.mark.browser
LIVE = 10_000  # ms: a generous bound; speed is measured in bench/, not here


def test_a_customer_cancels_early_and_the_board_shows_it_at_once(browser, server: Server) -> None:
    url = server.new_order("SELF-1", workflow="cafe")
    tablet = staff_page(browser, server)
    expect(tablet.get_by_role("button", name="Advance order SELF-1 to Preparing")).to_be_visible()
    customer = customer_page(browser, url)
    customer.get_by_text("Cancel order", exact=True).click()
    customer.get_by_label("Why? (optional)").fill("Plans changed")
    customer.get_by_role("button", name="Yes, cancel order SELF-1").click()
    expect(customer.locator(".notice-cancelled")).to_be_visible(timeout=LIVE)
    # The tablet: the tile leaves, and the alert says who cancelled and why.
    expect(tablet.locator("#alerts")).to_contain_text("Cancelled by the customer", timeout=LIVE)
    expect(tablet.locator("#alerts")).to_contain_text("Plans changed")
    expect(tablet.get_by_role("button", name="Advance order SELF-1 to Preparing")).to_have_count(0)
    customer.context.close()
    tablet.context.close()


def test_past_the_stage_the_customer_is_told_to_call(browser, server: Server) -> None:
    url = server.new_order("SELF-2", workflow="cafe")
    tablet = staff_page(browser, server)
    customer = customer_page(browser, url)
    expect(customer.get_by_text("Cancel order", exact=True)).to_be_visible()
    tablet.get_by_role("button", name="Advance order SELF-2 to Preparing").click()
    expect(customer.get_by_text("It can no longer be cancelled here")).to_be_visible(timeout=LIVE)
    expect(customer.get_by_text("Cancel order", exact=True)).to_have_count(0)
    customer.context.close()
    tablet.context.close()


def test_got_it_at_pickup_closes_the_order(browser, server: Server) -> None:
    url = server.new_order("SELF-3", workflow="cafe")
    tablet = staff_page(browser, server)
    customer = customer_page(browser, url)
    tablet.get_by_role("button", name="Advance order SELF-3 to Preparing").click()
    tablet.get_by_role("button", name="Advance order SELF-3 to Ready for pickup").click()
    got_it = customer.get_by_role("button", name="Got it — all good")
    expect(got_it).to_be_visible(timeout=LIVE)
    got_it.click()
    expect(customer.get_by_role("progressbar")).to_have_attribute(
        "aria-valuetext", "Picked up", timeout=LIVE
    )
    expect(customer.get_by_text("You confirmed that all is good")).to_be_visible()
    expect(tablet.locator("#alerts")).to_contain_text("The customer confirmed", timeout=LIVE)
    customer.context.close()
    tablet.context.close()


def test_a_shop_notice_appears_live_and_leaves_at_its_end(browser, server: Server) -> None:
    import zoneinfo
    from datetime import datetime, timedelta

    url = server.new_order("SELF-4")
    customer = customer_page(browser, url, clock=True)
    expect(customer.locator("#live-status")).to_have_attribute("data-state", "live", timeout=LIVE)
    tablet = staff_page(browser, server)
    tablet.locator("summary", has_text="Menu").click()
    tablet.locator("summary", has_text="Notice for customers").click()
    tablet.get_by_label("Notice for every customer").fill("Deliveries are late: snow")
    ends = datetime.now(zoneinfo.ZoneInfo("Europe/Moscow")) + timedelta(minutes=3)
    tablet.get_by_label("Until").fill(ends.strftime("%Y-%m-%dT%H:%M"))
    tablet.get_by_role("button", name="Show to customers").click()
    notice = customer.locator("#announcement")
    expect(notice).to_contain_text("Deliveries are late: snow", timeout=LIVE)
    expect(notice).to_be_visible()
    # No waiting: the customer's clock is moved past the notice's end.
    customer.clock.fast_forward("04:00")
    expect(notice).to_be_hidden(timeout=LIVE)
    tablet.locator("summary", has_text="Menu").click()
    tablet.get_by_role("button", name="End the notice now").click()
    expect(tablet.locator(".flash")).to_contain_text("The notice is gone", timeout=LIVE)
    customer.context.close()
    tablet.context.close()
