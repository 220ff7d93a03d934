"""Rendering caches: an unchanged order costs one query and no render; every change
is seen at once."""

import importlib
import time
from datetime import timedelta

import pytest
from django.template import engines
from django.test import Client
from django.test.signals import template_rendered
from django.utils import timezone

from orders import services
from orders.live import (
    _SNAPSHOTS,
    HOT_TEMPLATES,
    progress_for_token,
    progress_for_tokens,
    render_board,
    warm_templates,
)
from orders.models import Order


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


def test_snapshots_read_together_cost_five_queries_cold_and_one_warm(
    order: Order, other_order: Order, django_assert_num_queries
) -> None:
    wanted = [(order.token, "en"), (order.token, "ru"), (other_order.token, "en"), ("x" * 24, "en")]
    with django_assert_num_queries(5):  # versions; orders; their stages, events, feedback
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


def test_a_board_re_renders_no_card_whose_shown_text_is_unchanged(
    order: Order, staff: object, shop: object
) -> None:
    # The current stage overran long ago: its estimate is "now + the later stages",
    # a moment that moves with the clock, but the card shows it to the minute.
    Order.objects.filter(pk=order.pk).update(stage_since=timezone.now() - timedelta(hours=3))
    rendered: list[str] = []

    def count(sender: object, template: object, **kwargs: object) -> None:
        rendered.append(template.name)

    template_rendered.connect(count)
    try:
        for _attempt in range(2):  # a render that straddles a minute is redone once
            minute = int(time.time() // 60)
            rendered.clear()
            first = render_board(shop, "en")
            cards_first = rendered.count("orders/_card.html")
            render_board(shop, "en")
            if int(time.time() // 60) == minute:
                break
    finally:
        template_rendered.disconnect(count)
    assert "ETA" in first
    # Cold: at least this order's card; warm: none (the cache key once held the
    # estimate to the microsecond, so an overdue order's card never hit).
    assert cards_first >= 1
    assert rendered.count("orders/_card.html") == cards_first

    # Its next change is on the board at once.
    moved = services.advance_order(order=order, by=staff, expected_version=order.version)
    after = render_board(shop, "en")
    assert f'name="version" value="{moved.version}"' in after
    assert f'name="version" value="{order.version}"' not in after
    # So is an admin edit, which moves no version.
    moved.customer_name = "Zinaida"
    moved.save()
    assert "Zinaida" in render_board(shop, "en")


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
    assert "orders/_card.html" in cached.get_template_cache


# Committed for real: the broadcast runs when the tap's transaction commits, as in
# production, before the view answers.
@pytest.mark.django_db(transaction=True)
def test_a_tap_reads_and_renders_its_board_once_per_language_and_pushes_what_it_answers(
    order: Order, staff_client: Client, django_assert_max_num_queries, monkeypatch
) -> None:
    from orders import live, views_staff

    # What the broadcast hands the channel layer, recorded on its way there (the
    # Redis layer allows no sync test-side subscriber; the sockets' tests cover delivery).
    pushed: dict[str, str] = {}

    async def recorded(messages: list[tuple[str, str]], _real=live._send_all) -> None:
        pushed.update(messages)
        await _real(messages)

    monkeypatch.setattr(live, "_send_all", recorded)
    # Partials send no template_rendered signal: count the real renders where they start.
    rendered: list[str] = []
    for module in (live, views_staff):

        def counted(name: str, *args: object, _real=module.render_to_string, **kwargs: object):
            rendered.append(name)
            return _real(name, *args, **kwargs)

        monkeypatch.setattr(module, "render_to_string", counted)

    # The session and user, the order, the write (lock, read, next stages, update,
    # event, webhooks) and the broadcast's one read of the board and of the progress.
    with django_assert_max_num_queries(18):
        answer = staff_client.post(
            f"/staff/orders/{order.pk}/advance/", {"version": order.version}, HTTP_HX_REQUEST="true"
        )
    assert answer.status_code == 200
    board = pushed[live.board_group(order.shop_id, "en")]
    # The tablet gets the very board its shop's other tablets were pushed...
    assert board in answer.content.decode()
    assert f'name="version" value="{order.version + 1}"' in board
    # ...rendered once per language by the broadcast, not a third time for the answer.
    assert rendered.count("orders/board.html#board") == 2


def test_a_board_costs_five_queries_whatever_its_size_and_reads_only_what_it_shows(
    order: Order, staff: object, shop: object, django_assert_num_queries
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(12):  # orders at different stages, with notes and a customer's problem
        other = services.create_order(
            shop=shop, workflow=order.workflow, number=f"B{n}", customer_name="Ivan", by=staff
        )
        for _step in range(n % 3):
            other = services.advance_order(order=other, by=staff, expected_version=other.version)
        services.add_note(order=other, by=staff, text=f"note {n}", public=bool(n % 2))
    services.report_problem(order=order, text="The door code is 12")
    # Orders, their notes, the shop's stages, problems, low ratings: no query per card.
    with CaptureQueriesContext(connection) as board, django_assert_num_queries(5):
        html = render_board(shop, "en")
    assert "note 11" in html and "The door code is 12" in html and "Preparing" in html
    # Stages are read once for the shop, not joined into the orders again.
    assert sum('"orders_stage"' in q["sql"] for q in board.captured_queries) == 1
