"""The owner's console in real Chromium: a workflow's stages reordered by the buttons
and by dragging, with the order kept after every reload and no error on the way."""

import pytest
from playwright.sync_api import expect

from tests.support.servers import Server, staff_page

pytestmark = pytest.mark.browser


def names(page: object) -> list[str]:
    return [n.split(". ", 1)[1] for n in page.locator(".stage-row .stage-name").all_inner_texts()]


def test_stages_reorder_by_buttons_and_by_dragging_and_stay_so(browser, server: Server) -> None:
    page = staff_page(browser, server, width=1280)
    page.locator("summary", has_text="Menu").click()
    page.get_by_role("link", name="Settings and numbers").click()
    page.get_by_role("link", name="Workflows").click()
    # A workflow of its own (from the café template), so no other test's orders use it.
    page.get_by_label("Start from").select_option("cafe")
    page.get_by_role("button", name="Add").click()
    expect(page.locator(".flash")).to_contain_text("Workflow added")
    first = names(page)
    assert len(first) >= 4

    def press(stage: str, arrow: str) -> None:
        with page.expect_navigation():
            page.get_by_role("button", name=f"Move “{stage}” {arrow}").click()
        assert page.locator("h1").inner_text()  # a page, not an error

    # Swap the first two.
    press(first[0], "down")
    swapped = [first[1], first[0], *first[2:]]
    assert names(page) == swapped
    # The last to the top, by the keyboard, then back to the bottom.
    moving = swapped[-1]
    for _ in range(len(swapped) - 1):
        page.get_by_role("button", name=f"Move “{moving}” up").focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
    assert names(page) == [moving, *swapped[:-1]]
    for _ in range(len(swapped) - 1):
        press(moving, "down")
    assert names(page) == swapped
    # Drag the first stage below the last.
    rows = page.locator(".stage-row")
    below = rows.last.bounding_box()["height"] - 4  # the lower half of the last row
    with page.expect_navigation():
        rows.first.locator(".handle").drag_to(rows.last, target_position={"x": 10, "y": below})
    expect(page.locator(".flash")).to_contain_text("New order of the stages saved")
    assert names(page) == [*swapped[1:], swapped[0]]
    page.reload()
    assert names(page) == [*swapped[1:], swapped[0]]
    page.context.close()


def test_a_message_text_previews_as_typed_and_saves(browser, server: Server) -> None:
    page = staff_page(browser, server, width=1280)
    page.goto(server.url + "/staff/demo/settings/texts/milestone/en/")
    body = page.get_by_label("E-mail text")
    body.fill("Hi {name}, order {number} is {stage}.")
    expect(page.locator("#preview pre").first).to_have_text("Hi Maria, order 1042 is In the oven.")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("Saved")
    page.goto(server.url + "/staff/demo/settings/texts/milestone/en/")
    expect(page.get_by_label("E-mail text")).to_have_value("Hi {name}, order {number} is {stage}.")
    with page.expect_navigation():
        page.get_by_role("button", name="Use the built-in text").click()
    page.context.close()
