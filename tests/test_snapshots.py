"""Rendering caches: an unchanged order costs one query and no render; every change
is seen at once."""

import importlib

import pytest
from django.template import engines
from django.test import Client

from orders import services
from orders.models import Order
from orders.selectors import (
    _SNAPSHOTS,
    HOT_TEMPLATES,
    progress_for_token,
    progress_for_tokens,
    warm_templates,
)


def test_an_unchanged_orders_snapshot_costs_one_query_and_every_change_shows_at_once(
    order: Order,
    staff: object,
    django_assert_num_queries,
) -> None:
    first = progress_for_token(order.token, "en")
    assert f'data-version="{order.version}"' in first
    with django_assert_num_queries(1):  # the order's version, nothing rendered
        assert progress_for_token(order.token, "en") == first
    # Each language is its own fragment.
    russian = progress_for_token(order.token, "ru")
    assert russian != first
    assert progress_for_token(order.token, "ru") == russian

    moved = services.advance_order(order=order, by=staff, expected_version=order.version)
    after = progress_for_token(order.token, "en")
    assert f'data-version="{moved.version}"' in after
    assert after != first
    assert f'data-version="{moved.version}"' in progress_for_token(order.token, "ru")


def test_snapshots_read_together_cost_six_queries_cold_and_one_warm(
    order: Order, other_order: Order, django_assert_num_queries
) -> None:
    wanted = [(order.token, "en"), (order.token, "ru"), (other_order.token, "en"), ("x" * 24, "en")]
    # Versions; orders; their stages, arrivals at each stage, public notes, feedback.
    with django_assert_num_queries(6):
        cold = progress_for_tokens(wanted)
    with django_assert_num_queries(1):  # versions only: every fragment is cached
        assert progress_for_tokens(wanted) == cold
    assert cold[("x" * 24, "en")] is None
    # Each is the fragment its order alone gets.
    for token, lang in wanted[:3]:
        _SNAPSHOTS.clear()
        assert progress_for_token(token, lang) == cold[(token, lang)]


def test_an_unknown_token_has_no_snapshot(db: None) -> None:
    assert progress_for_token("x" * 24, "en") is None


def test_the_tracking_page_shows_the_pushed_fragment_and_an_unchanged_order_costs_one_query(
    order: Order, staff: object, client: Client, django_assert_num_queries
) -> None:
    page = f"/t/{order.token}/?lang=en"
    client.get(page)
    with django_assert_num_queries(1):  # the order (with its shop), nothing else
        html = client.get(page).content.decode()
    fragment = progress_for_token(order.token, "en")
    assert fragment in html  # the page and a socket show the very same fragment
    with django_assert_num_queries(1):  # the polling fallback, likewise
        assert client.get(f"/t/{order.token}/progress/?lang=en").content.decode() == fragment

    moved = services.advance_order(order=order, by=staff, expected_version=order.version)
    assert f'data-version="{moved.version}"' in client.get(page).content.decode()


def test_a_pushed_fragment_keeps_the_watchers_language_in_its_forms(order: Order) -> None:
    # The customer's problem form posts back in the language they chose, also after a push.
    for lang in ("en", "ru"):
        assert f'?lang={lang}"' in progress_for_token(order.token, lang)


def test_a_server_process_parses_its_hot_templates_before_the_first_request() -> None:
    cached = engines["django"].engine.template_loaders[0].loaders[0]
    cached.reset()
    warm_templates()
    parsed = set(cached.get_template_cache)
    assert {name.split("#")[0] for name in HOT_TEMPLATES} <= parsed
    # The ASGI application (what Daphne serves) warms them when it is imported.
    cached.reset()
    importlib.reload(importlib.import_module("tracker.asgi"))
    assert "orders/_tile.html" in cached.get_template_cache


def _open_orders(shop: object, workflow: object, staff: object, count: int) -> None:
    for n in range(count):
        other = services.create_order(
            shop=shop, workflow=workflow, number=f"B{n}", customer_name="Ivan", by=staff
        )
        for _step in range(n % 3):
            other = services.advance_order(order=other, by=staff, expected_version=other.version)


# Committed for real: the notice goes out when the tap's transaction commits, as in
# production, before the view answers.
@pytest.mark.django_db(transaction=True)
def test_a_tap_and_its_tile_cost_the_same_whatever_the_boards_size(
    order: Order,
    staff: object,
    staff_client: Client,
    django_assert_max_num_queries,
    django_assert_num_queries,
) -> None:
    from orders import board

    sizes = []
    for extra in (0, 120):
        _open_orders(order.shop, order.workflow, staff, extra) if extra else None
        order.refresh_from_db()
        # The session and user, the order, the write (lock, read, stages, update,
        # event, webhooks) and the answer's tile: nothing per open order, nothing
        # rendered for watchers (their processes do that, for the languages they use).
        with django_assert_max_num_queries(12):
            answer = staff_client.post(
                f"/staff/orders/{order.pk}/advance/",
                {"version": order.version},
                HTTP_HX_REQUEST="true",
                HTTP_ACCEPT_LANGUAGE="en",
            )
        assert answer.status_code == 200
        # What a board socket sends for the change: one tile, out of band, that
        # leaves its place and lands in its lane; read in two queries.
        with django_assert_num_queries(2):
            tile = board.tiles_for([(order.pk, "en", False)])[(order.pk, "en", False)]
        assert tile.startswith(f'<div id="order-{order.pk}" data-version="{order.version + 1}"')
        assert tile.count('<li class="tile') == 1 and 'hx-swap-oob="beforeend:#tiles-' in tile
        # The tablet that tapped gets the same tile, with what happened said at it.
        assert f'id="order-{order.pk}"' in answer.content.decode()
        assert "tile-msg" in answer.content.decode()
        sizes.append(len(tile))
    # The tile does not grow with the board (the stage names differ a little).
    assert abs(sizes[1] - sizes[0]) < 100, sizes


def test_a_board_costs_four_queries_whatever_its_size(
    order: Order, staff: object, shop: object, django_assert_num_queries
) -> None:
    from orders.board import render_board

    _open_orders(shop, order.workflow, staff, 12)
    services.report_problem(order=order, text="The door code is 12")
    # The shop's stages and workflows, its board's orders, and its alerts: no query per tile.
    with django_assert_num_queries(4):
        html = "".join(render_board(shop, "en"))
    assert html.count('<li class="tile') == 13
    assert "The door code is 12" in html and "Preparing" in html


def test_a_board_of_a_thousand_orders_is_sent_in_messages_under_the_frame_limit(
    order: Order, staff: object, shop: object
) -> None:
    from orders.board import render_board

    workflow = order.workflow
    first = order.stage
    Order.objects.bulk_create(
        Order(
            shop=shop, workflow=workflow, number=f"N{n}", customer_name="Ivan Petrov", stage=first
        )
        for n in range(1000)
    )
    messages = render_board(shop, "ru")
    assert len(messages) > 1
    assert all(len(m.encode()) < 1024 * 1024 for m in messages)
    assert sum(m.count('<li class="tile') for m in messages) == 1001


def test_the_progress_reads_one_row_per_stage_however_long_the_history(
    order: Order, staff: object
) -> None:
    from orders.selectors import _arrivals

    for _ in range(30):  # an advance/undo loop: sixty events
        order = services.advance_order(order=order, by=staff, expected_version=order.version)
        order = services.undo_order(order=order, by=staff, expected_version=order.version)
    order = services.advance_order(order=order, by=staff, expected_version=order.version)
    reached = _arrivals([order.pk])[order.pk]
    assert len(reached) == 2  # "Order received" and "Preparing", each once
    last = order.events.filter(kind="advanced").order_by("-version").first()
    assert reached[order.stage_id] == last.created_at  # the latest arrival counts
