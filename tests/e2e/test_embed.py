"""The embed on a shop's own site, in real Chromium: live inside an allowed origin's
iframe, resized by embed.js, and refused by the browser on an origin not listed."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from tests.support.servers import Server, free_port, staff_page

pytestmark = pytest.mark.browser
LIVE = 10_000


@contextmanager
def shop_site(server: Server, embed_url: str, port: int) -> Iterator[str]:
    """The shop's own website on another origin, with the documented snippet."""
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Pizzeria site</title></head><body><h1>Your order</h1>
<iframe src="{embed_url}" title="Order tracker" style="width:100%;border:0;height:150px"
        data-tracker></iframe>
<script src="{server.url}/static/js/embed.js"></script>
</body></html>""".encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def allow_origins(server: Server, *origins: str) -> None:
    code = (
        "from orders.models import Shop; "
        f"Shop.objects.filter(slug='demo').update(embed_origins={chr(10).join(origins)!r})"
    )
    server.manage("shell", "-c", code)


def test_an_allowed_site_shows_the_tracker_live_and_sized_to_fit(browser, server) -> None:
    port = free_port()
    allow_origins(server, f"http://127.0.0.1:{port}")
    embed_url = server.new_order("EMB-1") + "embed/?lang=en"
    with shop_site(server, embed_url, port) as site:
        context = browser.new_context(viewport={"width": 420, "height": 900}, locale="en-US")
        page = context.new_page()
        page.goto(site)
        frame = page.frame_locator("iframe[data-tracker]")
        bar = frame.get_by_role("progressbar")
        expect(bar).to_have_attribute("aria-valuetext", "Order received", timeout=LIVE)
        expect(frame.locator("#live-status")).to_have_attribute("data-state", "live", timeout=LIVE)

        # embed.js resized the iframe from 150 px to the tracker's own height.
        iframe = page.locator("iframe[data-tracker]")
        expect(iframe).not_to_have_attribute("style", "width:100%;border:0;height:150px")
        inner = frame.locator("body").evaluate("b => Math.ceil(b.getBoundingClientRect().height)")
        outer = iframe.evaluate("f => Math.round(f.getBoundingClientRect().height)")
        assert abs(outer - max(80, inner)) <= 2

        staff = staff_page(browser, server)
        staff.get_by_role("button", name="Advance order EMB-1 to Preparing").click()
        expect(bar).to_have_attribute("aria-valuetext", "Preparing", timeout=LIVE)
        staff.context.close()
        context.close()


def test_a_site_that_is_not_listed_cannot_frame_the_tracker(browser, server) -> None:
    allowed, other = free_port(), free_port()
    allow_origins(server, f"http://127.0.0.1:{allowed}")
    embed_url = server.new_order("EMB-2") + "embed/?lang=en"
    with shop_site(server, embed_url, other) as site:
        context = browser.new_context(locale="en-US")
        page = context.new_page()
        refusals = []
        page.on(
            "console", lambda m: refusals.append(m.text) if "frame-ancestors" in m.text else None
        )
        page.goto(site, wait_until="load")  # the frame has finished, one way or the other
        expect(page.get_by_role("heading", name="Your order")).to_be_visible()
        child = page.frames[1]
        assert child.url.startswith("chrome-error://") or child.locator("#progress").count() == 0
        assert page.frame_locator("iframe[data-tracker]").locator("#progress").count() == 0
        assert any(f"http://127.0.0.1:{allowed}" in text for text in refusals), refusals
        context.close()
