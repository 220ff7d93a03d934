"""The in-store display in real Chromium: a staff tap moves a number between columns
at once, and a collected order leaves by itself after the shop's clear time."""

import pytest
from playwright.sync_api import expect

from tests.support.servers import Server, _open, staff_page

pytestmark = pytest.mark.browser
LIVE = 10_000  # ms: a generous bound; speed is measured in bench/, not here


def test_a_tap_moves_the_number_and_a_collected_one_clears_itself(browser, server: Server) -> None:
    token = (
        server.manage(
            "shell",
            "-c",
            "from orders.models import Shop; s = Shop.objects.get(slug='demo'); "
            "s.display_clear_minutes = 1; s.save(); print(s.display_token)",
        )
        .strip()
        .splitlines()[-1]
    )
    server.new_order("DSP-1", workflow="cafe")
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="en-US")
    tv = _open(context, f"{server.url}/s/demo/display/{token}/", None, clock=True)
    expect(tv.locator("#live-status")).to_have_attribute("data-state", "live", timeout=LIVE)
    number = tv.locator("li", has_text="DSP-1")
    expect(tv.locator(".display-preparing li", has_text="DSP-1")).to_be_visible()
    tablet = staff_page(browser, server)
    tablet.get_by_role("button", name="Advance order DSP-1 to Preparing").click()
    expect(tv.locator(".display-almost li", has_text="DSP-1")).to_be_visible(timeout=LIVE)
    tablet.get_by_role("button", name="Advance order DSP-1 to Ready for pickup").click()
    ready = tv.locator(".display-ready li", has_text="DSP-1")
    expect(ready).to_be_visible(timeout=LIVE)
    expect(ready).to_have_class("display-number fresh")
    # Readable from three metres: the ready number is large on a 1080p screen.
    assert ready.bounding_box()["height"] >= 100
    tablet.get_by_role("button", name="Advance order DSP-1 to Picked up").click()
    expect(ready).to_have_class("display-number collected", timeout=LIVE)
    # No waiting: the display's own clock is moved past the shop's clear time.
    tv.clock.fast_forward("01:05")
    expect(number).to_have_count(0, timeout=LIVE)
    context.close()
    tablet.context.close()
