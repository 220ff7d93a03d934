import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from orders import board, rules, services
from orders.live import board_group, order_group
from orders.models import Order, Workflow


@pytest.fixture(autouse=True)
def _english() -> None:
    # Messages are asserted in English here; Russian has its own test below.
    with translation.override("en"):
        yield


def kinds(order: Order) -> list[str]:
    return list(order.events.order_by("version").values_list("kind", flat=True))


def test_create_order_starts_at_the_first_stage_with_a_created_event(order: Order) -> None:
    order.refresh_from_db()
    assert order.stage.position == 1
    assert order.state == Order.State.ACTIVE
    assert order.version == 1
    assert kinds(order) == ["created"]
    assert len(order.token) == 24 and order.token != str(order.pk)


def test_tokens_are_unique_and_random(shop, staff) -> None:
    workflow = shop.workflows.get(key="cafe")
    tokens = {
        services.create_order(
            shop=shop, workflow=workflow, number=str(n), customer_name="X", by=staff
        ).token
        for n in range(50)
    }
    assert len(tokens) == 50


def test_create_order_refuses_a_duplicate_number(order: Order, shop, staff) -> None:
    with pytest.raises(services.ActionRefused, match="already exists"):
        services.create_order(
            shop=shop, workflow=order.workflow, number="1042", customer_name="Y", by=staff
        )
    assert Order.objects.filter(shop=shop, number="1042").count() == 1


def test_create_order_refuses_a_workflow_of_another_shop(shop, other_shop, staff) -> None:
    with pytest.raises(services.ActionRefused):
        services.create_order(
            shop=shop,
            workflow=other_shop.workflows.first(),
            number="1",
            customer_name="Y",
            by=staff,
        )
    assert not Order.objects.exists()


def test_advance_moves_one_stage_and_records_an_event(
    order: Order, staff, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        services.advance_order(order=order, by=staff, expected_version=1)
    assert len(callbacks) == 1  # the broadcast, scheduled for after the commit
    order.refresh_from_db()
    assert order.stage.name_en == "Preparing"
    assert order.version == 2
    event = order.events.get(version=2)
    assert (event.kind, event.stage_id, event.by, event.by_name) == (
        "advanced",
        order.stage_id,
        staff,
        "Anna",
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_advance_tells_watchers_and_the_board_after_commit(order: Order, staff) -> None:
    # Listen on the real layer from this event loop; the broadcast's async_to_sync
    # runs on this same loop, which the Pub/Sub layer requires.
    layer = get_channel_layer()
    watcher, board = await layer.new_channel(), await layer.new_channel()
    await layer.group_add(order_group(order.token), watcher)
    await layer.group_add(board_group(order.shop_id), board)
    await database_sync_to_async(services.advance_order)(order=order, by=staff, expected_version=1)
    # A notice, the same for both: each socket's process renders what it shows
    # (the sockets' tests follow it to the page).
    notice = {"type": "order.changed", "order": order.pk, "version": 2, "alerts": False}
    assert await asyncio.wait_for(layer.receive(watcher), 5) == notice
    assert await asyncio.wait_for(layer.receive(board), 5) == notice
    await layer.group_discard(order_group(order.token), watcher)
    await layer.group_discard(board_group(order.shop_id), board)


def test_advance_refuses_a_stale_version_and_names_who_moved_it(order: Order, staff) -> None:
    services.advance_order(order=order, by=staff, expected_version=1)
    with translation.override("en"), pytest.raises(services.StaleVersion) as refused:
        services.advance_order(order=order, by=staff, expected_version=1)
    assert refused.value.message == "Order 1042 was already moved to “Preparing” by Anna."
    order.refresh_from_db()
    assert order.version == 2 and order.stage.name_en == "Preparing"
    assert kinds(order) == ["created", "advanced"]


def test_a_double_tap_moves_the_order_exactly_once(order: Order, staff, second_staff) -> None:
    seen = order.version
    services.advance_order(order=order, by=staff, expected_version=seen)
    with pytest.raises(services.StaleVersion):
        services.advance_order(order=order, by=second_staff, expected_version=seen)
    order.refresh_from_db()
    assert order.stage.position == 2
    assert order.events.filter(kind="advanced").count() == 1


@pytest.mark.django_db(transaction=True)  # each tap commits in its own thread
def test_taps_read_at_one_version_land_once_however_they_interleave(order: Order, staff) -> None:
    from concurrent.futures import ThreadPoolExecutor

    # Each tablet read the order at the same version before any of them wrote.
    copies = [Order.objects.select_related("shop", "workflow").get(pk=order.pk) for _ in range(6)]

    def tap(copy: Order) -> str:
        try:
            with translation.override("en"):  # a thread of its own starts in the default
                services.advance_order(order=copy, by=staff, expected_version=copy.version)
            return "moved"
        except services.StaleVersion as stale:
            return stale.message
        finally:
            connection.close()

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(tap, copies))
    assert answers.count("moved") == 1
    assert set(answers) - {"moved"} == {"Order 1042 was already moved to “Preparing” by Anna."}
    order.refresh_from_db()
    assert order.version == 2 and order.stage.position == 2
    assert order.events.filter(kind="advanced").count() == 1


def test_reaching_the_last_stage_completes_the_order(order: Order, staff) -> None:
    for _ in range(4):
        order = services.advance_order(order=order, by=staff, expected_version=order.version)
    assert order.state == Order.State.COMPLETED
    assert order.stage.name_en == "Delivered"
    assert kinds(order)[-1] == "completed"
    with pytest.raises(services.ActionRefused, match="already completed"):
        services.advance_order(order=order, by=staff, expected_version=order.version)


def test_undo_returns_to_the_previous_stage(order: Order, staff) -> None:
    order = services.advance_order(order=order, by=staff, expected_version=1)
    order = services.undo_order(order=order, by=staff, expected_version=2)
    assert order.stage.position == 1 and order.version == 3
    assert kinds(order) == ["created", "advanced", "undone"]


def test_undo_reopens_a_completed_order(order: Order, staff) -> None:
    for _ in range(4):
        order = services.advance_order(order=order, by=staff, expected_version=order.version)
    order = services.undo_order(order=order, by=staff, expected_version=order.version)
    assert order.state == Order.State.ACTIVE and order.stage.name_en == "Out for delivery"


def test_undo_is_refused_after_the_window(order: Order, staff, settings) -> None:
    order = services.advance_order(order=order, by=staff, expected_version=1)
    Order.objects.filter(pk=order.pk).update(
        stage_since=timezone.now() - timedelta(seconds=settings.TRACKER_UNDO_SECONDS + 1)
    )
    order = Order.objects.get(pk=order.pk)  # as the board reads it for the tap
    with pytest.raises(services.ActionRefused, match="can no longer be undone"):
        services.undo_order(order=order, by=staff, expected_version=2)
    order.refresh_from_db()
    assert order.stage.position == 2


def test_notes_and_promises_beside_a_step_keep_it_undoable(order: Order, staff) -> None:
    order = services.advance_order(order=order, by=staff, expected_version=1)
    order = services.add_note(order=order, by=staff, text="Ring twice", public=False)
    order = services.report_problem(order=order, text="Wrong address")
    assert rules.can_undo(order)
    order = services.undo_order(order=order, by=staff, expected_version=order.version)
    assert order.stage.position == 1


def test_the_board_offers_undo_exactly_when_the_service_allows_it(
    order: Order, staff, settings
) -> None:
    def board_offers() -> bool:
        (card,) = [c for lane in board.board_context(order.shop)["lanes"] for c in lane.tiles]
        return card["undo_until_ms"] is not None

    assert not board_offers()  # nothing to undo yet
    order = services.advance_order(order=order, by=staff, expected_version=1)
    assert board_offers()
    # An edit that moves updated_at (the admin's, say) gives no new window.
    Order.objects.filter(pk=order.pk).update(
        stage_since=timezone.now() - timedelta(seconds=settings.TRACKER_UNDO_SECONDS + 1),
        updated_at=timezone.now(),
    )
    assert not board_offers()
    order = Order.objects.get(pk=order.pk)  # as the board reads it for the tap
    with pytest.raises(services.ActionRefused, match="can no longer be undone"):
        services.undo_order(order=order, by=staff, expected_version=order.version)


def test_undo_is_refused_when_nothing_was_advanced(order: Order, staff) -> None:
    with pytest.raises(services.ActionRefused):
        services.undo_order(order=order, by=staff, expected_version=1)
    order = services.advance_order(order=order, by=staff, expected_version=1)
    order = services.undo_order(order=order, by=staff, expected_version=2)
    with pytest.raises(services.ActionRefused):
        services.undo_order(order=order, by=staff, expected_version=3)


def test_cancel_needs_a_reason_and_records_it(order: Order, staff) -> None:
    with pytest.raises(services.ActionRefused, match="reason"):
        services.cancel_order(order=order, by=staff, expected_version=1, reason="   ")
    order = services.cancel_order(order=order, by=staff, expected_version=1, reason="Out of dough")
    assert order.state == Order.State.CANCELLED and order.cancel_reason == "Out of dough"
    assert order.events.get(version=2).text == "Out of dough"
    with pytest.raises(services.ActionRefused, match="cancelled"):
        services.advance_order(order=order, by=staff, expected_version=2)


def test_a_failing_channel_layer_never_undoes_a_committed_change(
    order: Order, staff, settings, django_capture_on_commit_callbacks
) -> None:
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # Nothing listens on port 1: every send fails.
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    channel_layers.backends.clear()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.advance_order(order=order, by=staff, expected_version=1)
    finally:
        channel_layers.backends.clear()
    order.refresh_from_db()
    assert order.version == 2 and order.stage.position == 2


def test_refusals_are_in_the_active_language(order: Order, staff) -> None:
    services.advance_order(order=order, by=staff, expected_version=1)
    with translation.override("ru"), pytest.raises(services.StaleVersion) as refused:
        services.advance_order(order=order, by=staff, expected_version=1)
    assert refused.value.message == "Заказ 1042 уже переведён на этап «Готовим» (Anna)."


def test_a_taps_stage_list_is_read_once_and_again_after_any_change_of_it(
    order: Order, staff, django_assert_num_queries
) -> None:
    from orders import workflows

    def fresh() -> Order:  # as the board reads the order for each tap
        return Order.objects.select_related("shop", "workflow").get(pk=order.pk)

    first = services.advance_order(order=fresh(), by=staff, expected_version=1)
    assert first.stage.position == 2
    copy = fresh()
    with django_assert_num_queries(0):  # known for this workflow's stages_token
        copy.workflow_stages()
    # A rename through the model, then a reorder through bulk writes: each is seen.
    stage = copy.workflow.stages.get(position=3)
    stage.name_en = "In the oven"
    stage.save()
    assert [s.name_en for s in fresh().workflow_stages()][2] == "In the oven"
    stages = list(copy.workflow.stages.all())
    workflows.reorder(copy.workflow, [stages[0].pk, stages[1].pk, stages[3].pk, stages[2].pk])
    moved = services.advance_order(order=fresh(), by=staff, expected_version=2)
    assert moved.stage.pk == stages[3].pk  # what follows it now, not what followed it


def test_saving_a_workflow_never_writes_back_an_older_stages_token(order: Order) -> None:
    workflow = order.workflow
    held = Workflow.objects.get(pk=workflow.pk)
    stage = workflow.stages.first()
    stage.save()  # a stage edit elsewhere replaces the token
    held.name_en = "Pizza (renamed)"
    held.save()
    workflow.refresh_from_db()
    assert workflow.name_en == "Pizza (renamed)"
    assert workflow.stages_token != held.stages_token


def test_undo_restores_the_time_the_stage_was_reached_without_reading_history(
    order: Order, staff
) -> None:
    reached = order.stage_since
    order = services.advance_order(order=order, by=staff, expected_version=1)
    tapped = Order.objects.select_related("shop", "workflow").get(pk=order.pk)
    with CaptureQueriesContext(connection) as queries:
        undone = services.undo_order(order=tapped, by=staff, expected_version=2)
    history = [q["sql"] for q in queries if "orders_orderevent" in q["sql"]]
    assert len(history) == 1 and history[0].startswith("INSERT")  # the undo's own event
    assert undone.stage.position == 1 and undone.stage_since == reached
    # A step kept from before the time was recorded: read from the history instead.
    order = services.advance_order(order=undone, by=staff, expected_version=3)
    Order.objects.filter(pk=order.pk).update(previous_stage_since=None)
    order.refresh_from_db()
    arrived = order.events.get(version=1).created_at
    assert services.undo_order(order=order, by=staff, expected_version=4).stage_since == arrived


def test_a_tap_stands_after_asides_and_is_stale_only_after_a_step(
    order: Order, staff, second_staff
) -> None:
    seen = Order.objects.select_related("shop", "workflow").get(pk=order.pk)  # the tablet's read
    services.add_note(order=order, by=second_staff, text="Extra napkins", public=False)
    services.mark_opened(order=order)  # the customer opens the link meanwhile
    moved = services.advance_order(order=seen, by=staff, expected_version=seen.version)
    assert moved.stage.position == 2 and moved.version == 4
    assert moved.opened_at is not None  # the asides' own fields are kept, not overwritten
    assert kinds(moved) == ["created", "note", "opened", "advanced"]
    # After a step, a tap on what the tablet saw before it is refused.
    with translation.override("en"), pytest.raises(services.StaleVersion, match="already moved"):
        services.advance_order(order=seen, by=second_staff, expected_version=seen.version)
    fresh = Order.objects.get(pk=order.pk)
    assert fresh.version == 4 and fresh.opened_at is not None
