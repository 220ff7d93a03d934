"""axe-core (from the npm registry, installed by `make test`) on every public page, the
staff board and the owner's console, in real Chromium: no serious or critical
violations."""

import pytest

from tests.support.requirements import need
from tests.support.servers import ROOT, Server, staff_page

pytestmark = pytest.mark.browser
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def violations(page: object) -> list[str]:
    # Our CSP forbids injected scripts; the test context bypasses it for axe only.
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "axe.run(document, {resultTypes: ['violations'],"
        " runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice']}})"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def public_pages(server: Server, tag: str) -> dict[str, str]:
    active = server.new_order(f"A11Y-{tag}-1")
    done = server.new_order(f"A11Y-{tag}-2", workflow="cafe")
    code = (
        "from orders import services; from orders.models import Order; "
        f"o = Order.objects.get(shop__slug='demo', number='A11Y-{tag}-2')\n"
        "for _ in range(3):\n"
        "    o = services.advance_order(order=o, by=None, expected_version=o.version)"
    )
    server.manage("shell", "-c", code)
    return {
        "tracker": active,
        "tracker (done, rating form)": done,
        "embed": active + "embed/",
        "lookup": server.url + "/track/demo/",
        "unsubscribe": active + "unsubscribe/",
        "not found": server.url + "/t/" + "x" * 24 + "/",
        "sign-in": server.url + "/staff/login/",
    }


@pytest.mark.parametrize("locale", ["ru-RU", "en-US"])
def test_public_pages_and_the_board_have_no_serious_violations(browser, server, locale) -> None:
    need(AXE.exists(), f"axe-core not installed at {AXE} (make test installs it with npm)")
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale=locale, bypass_csp=True
    )
    found = {}
    for name, url in public_pages(server, locale[:2]).items():
        page = context.new_page()
        page.goto(url)
        found[name] = violations(page)
        page.close()
    context.close()
    board = staff_page(browser, server, width=1024, locale=locale, bypass_csp=True)
    found["staff board"] = violations(board)
    # The owner's console (the demo user owns the demo shop), on a phone-sized screen too.
    console = server.url + "/staff/demo/settings/"
    for path in ("", "workflows/", "texts/", "texts/created/ru/", "keys/", "webhooks/", "team/"):
        board.goto(console + path)
        found[f"console {path or 'shop'}"] = violations(board)
    board.goto(console + "workflows/")
    board.locator(".console-list a").first.click()
    found["console workflow"] = violations(board)
    board.set_viewport_size({"width": 390, "height": 844})
    board.goto(console + "numbers/?period=30d")
    found["console numbers"] = violations(board)
    # The in-store display, in both themes, on a TV-sized screen.
    board.goto(console)
    display = board.locator("a.display-link").get_attribute("href")
    board.set_viewport_size({"width": 1920, "height": 1080})
    for theme in ("dark", "light"):
        board.goto(f"{display}?theme={theme}")
        found[f"display ({theme})"] = violations(board)
    board.context.close()
    assert not any(found.values()), {k: v for k, v in found.items() if v}


def test_the_check_does_see_violations(browser) -> None:
    need(AXE.exists(), f"axe-core not installed at {AXE} (make test installs it with npm)")
    page = browser.new_page()
    page.set_content('<html lang="en"><title>x</title><img src="a.png"><button></button></html>')
    found = violations(page)
    page.close()
    assert any(v.startswith("image-alt") for v in found), found
    assert any(v.startswith("button-name") for v in found), found
