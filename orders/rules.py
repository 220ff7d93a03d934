"""The business rules, each stated once: when an order should be done, when it is
late, how long a step may be undone, how long a rating may be changed, and where
an order stands in its workflow.

Pages, the board, messages, the API and the services all ask here; nothing else
computes these. Only models sit below this module, so anything may import it.
"""

import re
import zoneinfo
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .models import Feedback, Order, OrderEvent, Shop, Stage

# The kinds of step that an undo takes back.
UNDOABLE_KINDS = (OrderEvent.Kind.ADVANCED, OrderEvent.Kind.COMPLETED)


def estimate(order: Order, stages: list[Stage]) -> datetime | None:
    """When the order should be done, recalculated on every change; never in the past.

    `stages`: the order's workflow's, in position order. A delay's new time wins;
    a delay without one means no honest estimate exists. An order the customer
    collects (its workflow has a stage that waits for them) is ready only while
    the shop is open: a time when it is closed becomes its next opening.
    """
    if order.is_finished:
        return None
    if order.is_delayed:
        return order.delay_until
    now = timezone.now()
    since = order.stage_since or order.created_at
    current_done = max(since + timedelta(minutes=order.stage.expected_minutes), now)
    later = sum(s.expected_minutes for s in stages if s.position > order.stage.position)
    done = current_done + timedelta(minutes=later)
    if any(s.waits_for_customer for s in stages):
        return next_open(order.shop, done)
    return done


HOURS_RE = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*[-–—]\s*(\d{1,2})[:.](\d{2})\s*$")


def opening_hours(shop: Shop) -> tuple[time, time] | None:
    """The shop's daily hours from its text ("10:00–22:00"); None when it is not one
    such range (then nothing is assumed about when it is open)."""
    match = HOURS_RE.match(shop.opening_hours or "")
    if match is None:
        return None
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59:
        return None
    return time(h1, m1), (time(0, 0) if h2 == 24 else time(h2, m2))


def next_open(shop: Shop, when: datetime) -> datetime:
    """`when` if the shop is open then, else the next time it opens (its time zone)."""
    hours = opening_hours(shop)
    if hours is None or hours[0] == hours[1]:
        return when
    opens, closes = hours
    local = timezone.localtime(when, zoneinfo.ZoneInfo(shop.timezone))
    at = local.time()
    # (closing before opening: open past midnight, 18:00–02:00)
    is_open = (opens <= at < closes) if opens < closes else (at >= opens or at < closes)
    if is_open:
        return when
    day = local.date() if at < opens else local.date() + timedelta(days=1)
    return datetime.combine(day, opens, tzinfo=local.tzinfo)


def behind_promise_at(order: Order, stages: list[Stage]) -> datetime | None:
    """From when the order is behind its promise: past the promised end, or expected
    after it (the estimate passes the end). None: no promise, or finished."""
    end = order.promise_end
    if end is None or order.is_finished:
        return None
    since = order.stage_since or order.created_at
    if order.is_delayed:
        return since if order.delay_until is None or order.delay_until > end else end
    later = timedelta(
        minutes=sum(s.expected_minutes for s in stages if s.position > order.stage.position)
    )
    # The estimate is max(since + expected, now) + later: it passes the end when now
    # does at end - later, or at once if the current stage alone already takes it past.
    if since + timedelta(minutes=order.stage.expected_minutes) > end - later:
        return since
    return end - later


def is_late(order: Order, stages: list[Stage]) -> bool:
    """Behind its promise now."""
    at = behind_promise_at(order, stages)
    return at is not None and timezone.now() >= at


def late_times(order: Order, stages: list[Stage]) -> tuple[datetime | None, datetime | None]:
    """When the board shows the order late: amber past its stage's expected minutes,
    red at twice that or once behind its promise. None: not by that clock (finished,
    no expectation, or waiting for the customer, which is not the kitchen's delay)."""
    if order.is_finished:
        return None, None
    amber = red = None
    minutes = order.stage.expected_minutes
    if minutes and not order.stage.waits_for_customer:
        since = order.stage_since or order.created_at
        amber = since + timedelta(minutes=minutes)
        red = since + timedelta(minutes=2 * minutes)
    behind = behind_promise_at(order, stages)
    if behind is not None:
        red = behind if red is None else min(red, behind)
        amber = red if amber is None else min(amber, red)
    return amber, red


def board_cutoff() -> datetime:
    """Finished orders stay on the board while their last step may be undone."""
    return timezone.now() - timedelta(seconds=settings.TRACKER_UNDO_SECONDS)


def on_board(order: Order) -> bool:
    """Open orders, whatever their stage (waiting for the customer too), and orders
    completed within the undo window; the one rule behind board_filter()."""
    if not order.is_finished:
        return True
    return order.state == Order.State.COMPLETED and can_undo(order)


def board_filter() -> Q:
    """on_board() as a query (completed orders: by the step's time, as can_undo)."""
    open_states = [Order.State.ACTIVE, Order.State.DELAYED]
    return Q(state__in=open_states) | Q(
        state=Order.State.COMPLETED,
        last_action__in=UNDOABLE_KINDS,
        stage_since__gte=board_cutoff(),
    )


def undo_deadline(order: Order) -> datetime | None:
    """Until when the order's last step may be undone; None when it may not be.

    Only a forward step can be undone, and only while it is the order's last
    step: notes, ratings, problem reports and promises are not steps and keep it
    undoable. The step's time is when the order reached its stage (stage_since),
    which nothing but a step moves.
    """
    if order.last_action not in UNDOABLE_KINDS or order.stage_since is None:
        return None
    return order.stage_since + timedelta(seconds=settings.TRACKER_UNDO_SECONDS)


def can_undo(order: Order) -> bool:
    deadline = undo_deadline(order)
    return deadline is not None and timezone.now() <= deadline


def feedback_editable_until(feedback: Feedback) -> datetime:
    return feedback.created_at + timedelta(seconds=settings.TRACKER_FEEDBACK_EDIT_SECONDS)


# How many times a customer may change a rating once given (within the window).
FEEDBACK_CHANGES = 3


def feedback_editable(feedback: Feedback | None, changes: int = 0) -> bool:
    """May the customer (still) rate: no rating yet, or one given a short while ago
    and changed fewer than FEEDBACK_CHANGES times (`changes`, if known)."""
    if feedback is None:
        return True
    return timezone.now() <= feedback_editable_until(feedback) and changes < FEEDBACK_CHANGES


def stage_number(order: Order, stages: list[Stage]) -> int:
    """The order's stage counted from 1 among its workflow's `stages` (positions may
    have gaps; customers and staff see 1, 2, 3…)."""
    return next((i for i, s in enumerate(stages, 1) if s.pk == order.stage_id), 1)


# What happens beside an order's steps: these leave its last step, and so its undo,
# as they were.
ASIDE_KINDS = (
    OrderEvent.Kind.NOTE,
    OrderEvent.Kind.PROMISED,
    OrderEvent.Kind.PROBLEM,
    OrderEvent.Kind.FEEDBACK,
    OrderEvent.Kind.SEEN,
    OrderEvent.Kind.UNSUBSCRIBED,
    OrderEvent.Kind.EDITED,
    OrderEvent.Kind.OPENED,
)


def customer_language(shop: Shop | None, lang: str) -> str:
    """The wording a customer of this shop reads in `lang`. A shop that addresses its
    customers informally (ты) gets Russian from its own catalogue, ru-ty, which says
    only what differs and falls back to ru for every neutral text."""
    return "ru-ty" if lang == "ru" and shop is not None and shop.address_form == "ty" else lang


# The in-store display's columns, in order.
DISPLAY_COLUMNS = ("preparing", "almost", "ready")


def ready_position(stages: list[Stage]) -> int:
    """Where an order is ready for the customer: its workflow's first stage that
    waits for them, else its last stage."""
    waiting = [s.position for s in stages if s.waits_for_customer]
    return waiting[0] if waiting else stages[-1].position


def display_column(order: Order, stages: list[Stage]) -> str | None:
    """The display column that shows the order; None: not shown (cancelled, or
    collected longer ago than the shop's clear time)."""
    if order.state == Order.State.CANCELLED:
        return None
    if order.state == Order.State.COMPLETED:
        gone = order.updated_at + timedelta(minutes=order.shop.display_clear_minutes)
        return "ready" if timezone.now() < gone else None
    ready = ready_position(stages)
    before = [s.position for s in stages if s.position < ready]
    if order.stage.position >= ready:
        return "ready"
    if before and order.stage.position == before[-1]:
        return "almost"
    return "preparing"


def display_filter(shop: Shop) -> Q:
    """The orders the display may show (display_column decides the rest)."""
    since = timezone.now() - timedelta(minutes=shop.display_clear_minutes)
    return Q(state__in=[Order.State.ACTIVE, Order.State.DELAYED]) | Q(
        state=Order.State.COMPLETED, updated_at__gte=since
    )


def customer_may_cancel(order: Order, stages: list[Stage]) -> bool:
    """The customer may cancel from the tracker: the workflow allows it, and the order
    is open and not past the workflow's last cancellable stage."""
    limit = next((s for s in stages if s.pk == order.workflow.customer_cancel_until_id), None)
    return (
        limit is not None
        and order.state in (Order.State.ACTIVE, Order.State.DELAYED)
        and order.stage.position <= limit.position
    )


def customer_may_confirm(order: Order) -> bool:
    """The customer may say "got it, all good": the workflow asks for it, the order
    waits for them (pickup) or is done, and they have not said it yet."""
    if not order.workflow.customer_confirms or order.last_action == OrderEvent.Kind.CONFIRMED:
        return False
    if order.state == Order.State.COMPLETED:
        return True
    return order.state == Order.State.ACTIVE and order.stage.waits_for_customer


def may_be_watched() -> Q:
    """Orders whose trackers may be open: not finished, or finished within a day
    (customers come back to rate and to read the aftercare memo)."""
    day_ago = timezone.now() - timedelta(days=1)
    return Q(state__in=[Order.State.ACTIVE, Order.State.DELAYED]) | Q(updated_at__gte=day_ago)
