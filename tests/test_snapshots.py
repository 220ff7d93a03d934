"""Socket snapshots: an unchanged order costs one query; every change is seen at once."""

from orders import services
from orders.live import progress_for_token
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


def test_an_unknown_token_has_no_snapshot(db: None) -> None:
    assert progress_for_token("x" * 24, "en") is None
