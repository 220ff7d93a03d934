"""The staff board as a kitchen display, in real Chromium: lanes, tiles that tick and
turn late by themselves, search, alerts, keys, and one tile pushed per change."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.servers import Server, staff_page

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LIVE = 10_000  # ms: a generous bound; speed is measured in bench/, not here

# A shop of its own, so other tests' orders do not crowd its board: 24 pizzas, six
# at each open stage, and six café orders waiting at the counter.
_KITCHEN = """
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from orders import services
from orders.models import Membership, Order, Shop
from orders.workflow_templates import install_template
shop, created = Shop.objects.get_or_create(slug="kds", defaults={"name": "KDS", "language": "en"})
if created:
    install_template(shop, "pizza")
    install_template(shop, "cafe")
    user = get_user_model().objects.create_user("kds", password="kds", first_name="Kim")
    Membership.objects.create(user=user, shop=shop)
    names = ["Maria", "Ivan", "Olga", "Petr", "Anna", "Boris"]
    for n in range(30):
        workflow = shop.workflows.get(key="pizza" if n < 24 else "cafe")
        steps = n % 4 if n < 24 else 2
        order = services.create_order(shop=shop, workflow=workflow, number=str(2000 + n),
                                      customer_name=names[n % 6] + " Smith", by=user)
        for _ in range(steps):
            order = services.advance_order(order=order, by=user, expected_version=order.version)
    # A busy shift: every order reached its stage a while ago (past the undo window),
    # one of them ready for pickup two hours ago, waiting for the customer.
    Order.objects.filter(shop=shop).update(stage_since=timezone.now() - timedelta(minutes=6))
    Order.objects.filter(shop=shop, number="2024").update(
        stage_since=timezone.now() - timedelta(hours=2)
    )
"""


@pytest.fixture(scope="module")
def kitchen(server: Server) -> Server:
    server.manage("shell", "-c", _KITCHEN)
    return server


def tablet(browser: object, server: Server, **kwargs: object) -> object:
    page = staff_page(browser, server, user="kds", **kwargs)
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live", timeout=LIVE)
    return page


def _advance(server: Server, number: str) -> None:
    server.manage(
        "shell",
        "-c",
        "from orders import services; from orders.models import Order; "
        f"o = Order.objects.get(shop__slug='kds', number='{number}'); "
        "services.advance_order(order=o, by=None, expected_version=o.version)",
    )


@pytest.mark.parametrize(("width", "height"), [(1024, 768), (768, 1024)])
def test_thirty_open_orders_all_fit_a_tablet_without_scrolling(
    browser, kitchen, width: int, height: int
) -> None:
    page = tablet(browser, kitchen, width=width, height=height)
    tiles = page.locator(".tile")
    expect(tiles).to_have_count(30)
    name = "landscape" if width > height else "portrait"
    page.screenshot(path=SHOTS / f"board-{name}.png")
    outside = page.evaluate(
        """() => [...document.querySelectorAll('.tile')].filter(t => {
             const r = t.getBoundingClientRect();
             return r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth;
           }).map(t => t.id)"""
    )
    assert not outside, outside
    size = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    assert size[0] <= width and size[1] <= height, size
    # Lanes by stage, oldest first, with their counts.
    lane = page.locator("section.lane", has=page.get_by_role("heading", name="Baking"))
    expect(lane.locator(".lane-count")).to_have_text("6")
    numbers = lane.locator(".tile-number").all_inner_texts()
    assert numbers == sorted(numbers), numbers  # created one after another: oldest first
    page.context.close()


def test_an_advance_moves_the_tile_to_the_next_lane_on_another_tablet(browser, kitchen) -> None:
    watcher = tablet(browser, kitchen)
    tapper = tablet(browser, kitchen)
    baking = watcher.locator("#tiles-" + _lane_id(watcher, "Baking"))
    expect(baking.locator("#" + _tile_id(watcher, "2001"))).to_have_count(0)
    tapper.get_by_role("button", name="Advance order 2001 to Baking").click()
    expect(tapper.locator(".tile", has_text="#2001").locator(".tile-msg")).to_have_text(
        "Order 2001: Baking."
    )
    expect(baking.locator(".tile", has_text="#2001")).to_have_count(1, timeout=LIVE)
    expect(watcher.locator(".tile", has_text="#2001")).to_have_count(1)  # moved, not copied
    watcher.context.close()
    tapper.context.close()


def _lane_id(page: object, name: str) -> str:
    return (
        page.locator("section.lane", has=page.get_by_role("heading", name=name))
        .get_attribute("id")
        .removeprefix("lane-")
    )


def _tile_id(page: object, number: str) -> str:
    return page.locator(".tile", has_text=f"#{number}").get_attribute("id")


def test_a_tile_turns_amber_past_its_stage_and_red_at_twice_that(browser, kitchen) -> None:
    kitchen.manage(
        "shell",
        "-c",
        "from orders import services; from orders.models import Shop; "
        "shop = Shop.objects.get(slug='kds'); "
        "services.create_order(shop=shop, workflow=shop.workflows.get(key='pizza'), "
        "number='2100', customer_name='Vera', by=None)",
    )
    page = tablet(browser, kitchen, clock=True)
    tile = page.locator(".tile", has_text="#2100")  # Order received: expected in 2 minutes
    expect(tile).to_have_class("tile")
    since = int(tile.get_attribute("data-since"))
    now = page.evaluate("Date.now()")
    page.clock.fast_forward(max(0, since + 2 * 60_000 - now) + 1_000)
    expect(tile).to_have_class("tile tile-amber")
    page.clock.fast_forward(2 * 60_000)
    expect(tile).to_have_class("tile tile-red")
    page.context.close()


def test_search_finds_an_order_by_number_and_by_name(browser, kitchen) -> None:
    page = tablet(browser, kitchen)
    page.get_by_label("Find an order by number or name").fill("2017")
    expect(page.locator(".tile:visible")).to_have_count(1)
    expect(page.locator(".tile:visible")).to_contain_text("#2017")
    page.get_by_label("Find an order by number or name").fill("olga")
    expect(page.locator(".tile:visible")).to_have_count(5)  # 2002, 2008, 2014, 2020, 2026
    page.get_by_label("Find an order by number or name").press("Escape")
    expect(page.locator(".tile:visible")).to_have_count(page.locator(".tile").count())
    page.context.close()


def test_an_order_waiting_for_the_customer_stays_and_says_so(browser, kitchen) -> None:
    page = tablet(browser, kitchen)
    tile = page.locator(".tile", has_text="#2024")  # ready two hours ago
    expect(tile).to_contain_text("Waiting for the customer")
    expect(tile).not_to_have_class("tile-red")
    page.context.close()


def test_keys_move_between_tiles_and_enter_advances(browser, kitchen) -> None:
    page = tablet(browser, kitchen)
    page.locator(".tile", has_text="#2008").focus()
    page.keyboard.press("ArrowDown")
    expect(page.locator(".tile", has_text="#2012")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".tile", has_text="#2012").locator(".tile-msg")).to_have_text(
        "Order 2012: Preparing.", timeout=LIVE
    )
    expect(page.locator(".tile", has_text="#2012")).to_be_focused()
    page.keyboard.press("u")
    expect(page.locator(".tile", has_text="#2012").locator(".tile-msg")).to_have_text(
        "Order 2012 is back at Order received.", timeout=LIVE
    )
    page.context.close()


def test_a_problem_report_is_an_alert_until_someone_has_seen_it(browser, kitchen) -> None:
    kitchen.manage(
        "shell",
        "-c",
        "from orders import services; from orders.models import Order; "
        "services.report_problem(order=Order.objects.get(shop__slug='kds', number='2003'), "
        "text='Wrong door code')",
    )
    a, b = tablet(browser, kitchen), tablet(browser, kitchen)
    expect(b.locator("#alerts")).to_contain_text("Wrong door code")
    a.get_by_role("button", name="Seen: order 2003").click()
    expect(b.locator("#alerts")).to_be_hidden(timeout=LIVE)
    expect(a.locator("#alerts")).to_be_hidden()
    # It stays in the order's history, with who saw it.
    a.get_by_role("link", name="More for order 2003").click()
    expect(a.locator("#panel .timeline")).to_contain_text("alert seen")
    expect(a.locator("#panel .timeline")).to_contain_text("Kim")
    a.context.close()
    b.context.close()


def test_an_order_made_by_another_process_appears_on_an_open_board(browser, kitchen) -> None:
    # The embedded default has no Redis: manage.py's change reaches no socket, and
    # the board's own check brings it (moved on with the page's clock, not waited for).
    page = tablet(browser, kitchen, clock=True)
    kitchen.manage("create_order", "--shop", "kds", "--number", "2200", "--customer", "Zoya Orlova")
    expect(page.locator(".tile", has_text="#2200")).to_have_count(0)
    page.clock.fast_forward(int(page.locator("main").get_attribute("data-check-seconds")) * 1000)
    expect(page.locator(".tile", has_text="#2200")).to_have_count(1, timeout=LIVE)
    page.context.close()
