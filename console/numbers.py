"""The owner's numbers: what happened in a period, read in a fixed number of queries.

Every figure here is computed from the orders and their history as the console shows
it; the tests compare each with a direct query. Times are medians and 90th
percentiles over the orders created in the period.
"""

import statistics
import zoneinfo
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Window,
)
from django.db.models.functions import Lead, TruncDate
from django.utils import timezone

from orders.models import FORWARD_KINDS, Feedback, Order, OrderEvent, Shop, Stage

PERIODS = {"today": 1, "7d": 7, "30d": 30}


def _zone(shop: Shop) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(shop.timezone)


def period_start(shop: Shop, period: str, now: datetime | None = None) -> datetime:
    """Midnight in the shop's time zone, `days - 1` days before today."""
    days = PERIODS.get(period, PERIODS["7d"])
    local = timezone.localtime(now or timezone.now(), timezone=_zone(shop))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - timedelta(days=days - 1)


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of them lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


@dataclass
class StageTime:
    stage: Stage
    count: int
    median_minutes: float
    p90_minutes: float


@dataclass
class Numbers:
    since: datetime
    per_day: list[tuple[date, int]] = field(default_factory=list)
    orders: int = 0
    stage_times: list[StageTime] = field(default_factory=list)
    finished: int = 0
    on_time: int = 0
    ratings: dict[int, int] = field(default_factory=dict)
    comments: list[Feedback] = field(default_factory=list)
    problems: int = 0
    cancelled: int = 0
    opened: int = 0

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.finished if self.finished else None

    @property
    def rating_count(self) -> int:
        return sum(self.ratings.values())


def numbers(shop: Shop, period: str, now: datetime | None = None) -> Numbers:
    """The shop's numbers for the period (today, 7d, 30d) in six queries, whatever the
    number of orders."""
    zone = _zone(shop)
    since = period_start(shop, period, now)
    orders = Order.objects.filter(shop=shop, created_at__gte=since)
    out = Numbers(since=since)

    days = dict(
        orders.annotate(day=TruncDate("created_at", tzinfo=zone))
        .order_by()
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    first = timezone.localtime(since, timezone=zone).date()
    last = timezone.localtime(now or timezone.now(), timezone=zone).date()
    out.per_day = [
        (first + timedelta(days=n), days.get(first + timedelta(days=n), 0))
        for n in range((last - first).days + 1)
    ]
    out.orders = sum(n for _, n in out.per_day)

    stages = {s.pk: s for s in Stage.objects.filter(workflow__shop=shop).select_related("workflow")}
    expected: dict[int, int] = defaultdict(int)
    for stage in stages.values():
        expected[stage.workflow_id] += stage.expected_minutes

    # Time in each stage: from arriving at it to arriving at the next one (an undo
    # and the advance after it count as one stay). When the order was ready: at a
    # stage that waits for the customer, or at its last stage.
    after = {"partition_by": [F("order_id")], "order_by": F("version").asc()}
    arrivals = (
        OrderEvent.objects.filter(order__in=orders, kind__in=FORWARD_KINDS)
        .annotate(
            stay=ExpressionWrapper(
                Window(Lead("created_at"), **after) - F("created_at"),
                output_field=DurationField(),
            ),
            next_stage=Window(Lead("stage_id"), **after),
        )
        .order_by()
        .values_list("stage_id", "stay", "next_stage")
    )
    spent: dict[int, list[float]] = defaultdict(list)
    for stage_id, stay, next_stage in arrivals.iterator(chunk_size=10_000):
        if stay is not None and next_stage != stage_id:
            spent[stage_id].append(stay.total_seconds() / 60)
    waiting = [pk for pk, stage in stages.items() if stage.waits_for_customer]
    ready_at = (
        OrderEvent.objects.filter(order=OuterRef("pk"))
        .filter(Q(kind=OrderEvent.Kind.COMPLETED) | Q(stage_id__in=waiting))
        .order_by("version")
        .values("created_at")[:1]
    )
    out.stage_times = [
        StageTime(
            stage=stages[pk],
            count=len(minutes),
            median_minutes=statistics.median(minutes),
            p90_minutes=percentile(minutes, 0.9),
        )
        for pk, minutes in sorted(
            spent.items(), key=lambda item: (stages[item[0]].workflow_id, stages[item[0]].position)
        )
        if pk in stages
    ]

    # Kept: ready by the promise's end, or without a promise by the first estimate
    # (the sum of the workflow's expected minutes from when it was placed).
    rows = orders.annotate(
        problems=Count("events", filter=Q(events__kind=OrderEvent.Kind.PROBLEM)),
        ready=Subquery(ready_at),
        opened=Q(opened_at__isnull=False),
    ).values_list(
        "state", "created_at", "promise_end", "workflow_id", "problems", "opened", "ready"
    )
    for state, created_at, promise_end, workflow_id, problems, opened, ready in rows.iterator(
        chunk_size=10_000
    ):
        out.problems += problems
        out.opened += opened
        if state == Order.State.CANCELLED:
            out.cancelled += 1
        elif ready is not None:
            out.finished += 1
            due = promise_end or created_at + timedelta(minutes=expected[workflow_id])
            out.on_time += ready <= due

    feedback = Feedback.objects.filter(order__in=orders)
    out.ratings = dict(Counter(feedback.values_list("rating", flat=True)))
    out.comments = list(
        feedback.exclude(comment="").select_related("order").order_by("-updated_at")[:10]
    )
    return out
