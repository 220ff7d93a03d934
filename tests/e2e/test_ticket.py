"""The printed ticket in real Chromium: printed to PDF on receipt paper, its QR code
decodes back to the order's live tracker."""

import pytest
from playwright.sync_api import expect

from tests.support.servers import Server, staff_page

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [80, 58])
def test_the_printed_tickets_qr_opens_the_tracker(browser, server: Server, width: int) -> None:
    import pypdfium2
    import zxingcpp

    url = server.new_order(f"TKT-{width}")
    tablet = staff_page(browser, server)
    tablet.get_by_role("link", name=f"More for order TKT-{width}").click()
    link = tablet.get_by_role("link", name=f"Print a ticket for order TKT-{width} ({width} mm)")
    expect(link).to_be_visible()
    with tablet.context.expect_page() as opened:
        link.click()
    ticket = opened.value
    ticket.wait_for_load_state()
    expect(ticket.locator(".ticket-number")).to_have_text(f"Order TKT-{width}")
    ticket.emulate_media(media="print")
    pdf = ticket.pdf(prefer_css_page_size=True, print_background=True)
    document = pypdfium2.PdfDocument(pdf)
    page = document[0]
    paper_mm = page.get_width() / 72 * 25.4
    assert abs(paper_mm - width) < 1, paper_mm  # the receipt printer's paper
    image = page.render(scale=4).to_pil()
    codes = zxingcpp.read_barcodes(image)
    assert [c.text for c in codes] == [url]
    tablet.context.close()
