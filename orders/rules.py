"""The business rules, each stated once: when an order should be done, when it is
late, how long a step may be undone, how long a rating may be changed, and where
an order stands in its workflow.

Pages, the board, messages, the API and the services all ask here; nothing else
computes these. Only models sit below this module, so anything may import it.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from .models import Feedback, Order, OrderEvent, Stage

# The kinds of step that an undo takes back.
UNDOABLE_KINDS = (OrderEvent.Kind.ADVANCED, OrderEvent.Kind.COMPLETED)


def estimate(order: Order, stages: list[Stage]) -> datetime | None:
    """When the order should be done, recalculated on every change; never in the past.

    `stages`: the order's workflow's, in position order. A delay's new time wins;
    a delay without one means no honest estimate exists.
    """
    if order.is_finished:
        return None
    if order.is_delayed:
        return order.delay_until
    now = timezone.now()
    since = order.stage_since or order.created_at
    current_done = max(since + timedelta(minutes=order.stage.expected_minutes), now)
    later = sum(s.expected_minutes for s in stages if s.position > order.stage.position)
    return current_done + timedelta(minutes=later)


def is_late(order: Order, eta: datetime | None) -> bool:
    """Behind its promise: past the promised end, or expected after it."""
    if order.promise_end is None or order.is_finished:
        return False
    return timezone.now() > order.promise_end or (eta is not None and eta > order.promise_end)


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


def feedback_editable(feedback: Feedback | None) -> bool:
    """May the customer (still) rate: no rating yet, or one given a short while ago."""
    return feedback is None or timezone.now() <= feedback_editable_until(feedback)


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
)
