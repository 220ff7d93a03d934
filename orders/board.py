"""What the staff board shows: lanes by stage, one tile per order, alerts, and the
fragments a change sends to tablets.

Lanes are the shop's stage names, in the active language: stages of different
workflows with the same name ("Preparing") share a lane, lanes run in the order
their stages come in their workflows, and every workflow's last stage shares the
"Done" lane, where completed orders wait out their undo window. Inside a lane the
order that has waited longest in its stage comes first.

A change sends one tile, not the board: the tile leaves wherever it was and lands
in its lane (out-of-band swaps), so what a tap costs does not grow with the number
of open orders. The whole board is sent on connect and resync only.
"""

import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Q, Sum
from django.template.loader import render_to_string
from django.utils import timezone, translation

from . import rules
from .models import Order, OrderEvent, Shop, Stage, Workflow

DONE = "done"
# How many tiles one socket message carries when a whole board is sent (a board of
# a thousand open orders would pass Daphne's 1 MiB frame limit in one message).
TILES_PER_MESSAGE = 200
# The kinds of change that add or clear an alert: their pushes carry the alerts too.
ALERT_KINDS = (
    OrderEvent.Kind.PROBLEM,
    OrderEvent.Kind.FEEDBACK,
    OrderEvent.Kind.SEEN,
    OrderEvent.Kind.CANCELLED,
    OrderEvent.Kind.CONFIRMED,
)
LOW_RATING = 2


def lane_key(name: str) -> str:
    """A lane's id from its name: the same on every tablet of one language."""
    return "s" + hashlib.blake2s(name.casefold().strip().encode(), digest_size=4).hexdigest()


@dataclass
class Lane:
    key: str
    name: str
    workflows: set[str] = field(default_factory=set)
    tiles: list[dict] = field(default_factory=list)
    places: list[float] = field(default_factory=list)  # each stage's place in its workflow

    @property
    def place(self) -> float:
        return sum(self.places) / len(self.places) if self.places else 2.0


@dataclass
class ShopStages:
    """The shop's workflows and their stages (in position order), read once."""

    workflows: dict[int, Workflow]
    stages: dict[int, list[Stage]]

    @classmethod
    def read(cls, shop: Shop) -> "ShopStages":
        stages: dict[int, list[Stage]] = defaultdict(list)
        for stage in Stage.objects.filter(workflow__shop=shop).order_by("position"):
            stages[stage.workflow_id].append(stage)
        return cls({w.pk: w for w in Workflow.objects.filter(shop=shop)}, stages)

    def lanes(self) -> dict[str, Lane]:
        """Every lane, in order, named in the active language."""
        lanes: dict[str, Lane] = {}
        for workflow_id, stages in self.stages.items():
            key = self.workflows[workflow_id].key
            for index, stage in enumerate(stages[:-1]):
                lane = lanes.setdefault(
                    lane_key(stage.name), Lane(lane_key(stage.name), stage.name)
                )
                lane.workflows.add(key)
                lane.places.append(index / max(1, len(stages) - 1))
        ordered = sorted(lanes.values(), key=lambda lane: lane.place)
        done = Lane(DONE, translation.gettext("Done"), {w.key for w in self.workflows.values()})
        return {lane.key: lane for lane in [*ordered, done]}


def _ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment is not None else None


def tile(order: Order, stages: list[Stage], workflow_key: str) -> dict:
    """What one tile shows, and the times at which it changes by itself."""
    following = [s for s in stages if s.position > order.stage.position]
    since = order.stage_since or order.created_at
    amber, red = rules.late_times(order, stages)
    now = timezone.now()
    undo_until = rules.undo_deadline(order) if rules.can_undo(order) else None
    finished = order.is_finished or not following
    return {
        "order": order,
        "lane": DONE if finished else lane_key(order.stage.name),
        "workflow": workflow_key,
        "next_stage": None if finished else following[0],
        "since_ms": _ms(since),
        "amber_ms": _ms(amber),
        "red_ms": _ms(red),
        "late": "red" if red and now >= red else "amber" if amber and now >= amber else "",
        "behind_promise": rules.is_late(order, stages),
        "waiting": order.stage.waits_for_customer and not finished,
        "undo_until_ms": _ms(undo_until),
        # A completed order leaves the board when its undo window ends.
        "leaves_ms": _ms(undo_until) if order.is_finished else None,
    }


def _alerts(shop: Shop) -> list[OrderEvent]:
    """Problem reports, low ratings and what customers did themselves (cancelled,
    confirmed) in the last day that nobody has seen yet."""
    day_ago = timezone.now() - timedelta(days=1)
    return list(
        OrderEvent.objects.filter(order__shop=shop, created_at__gte=day_ago)
        .filter(
            Q(kind=OrderEvent.Kind.PROBLEM)
            | Q(kind=OrderEvent.Kind.FEEDBACK, order__feedback__rating__lte=LOW_RATING)
            | Q(by_customer=True, kind__in=[OrderEvent.Kind.CANCELLED, OrderEvent.Kind.CONFIRMED])
        )
        .filter(acknowledgements__isnull=True)
        .select_related("order", "order__feedback")
        .order_by("-created_at")[:10]
    )


def board_context(shop: Shop) -> dict:
    # Taken before the queries: a render that starts later never shows older data.
    stamp = time.time_ns() // 1000
    known = ShopStages.read(shop)
    lanes = known.lanes()
    orders = (
        Order.objects.filter(shop=shop).filter(rules.board_filter()).order_by("stage_since", "pk")
    )
    by_pk = {s.pk: s for stages in known.stages.values() for s in stages}
    count = versions = 0
    for order in orders:
        order.stage = by_pk.get(order.stage_id) or order.stage  # added since: read on use
        stages = known.stages[order.workflow_id]
        card = tile(order, stages, known.workflows[order.workflow_id].key)
        lanes[card["lane"]].tiles.append(card)
        count, versions = count + 1, versions + order.version
    return {
        "shop": shop,
        "stamp": stamp,
        "lanes": list(lanes.values()),
        "workflows": list(known.workflows.values()),
        "alerts": _alerts(shop),
        "open_count": count - len(lanes[DONE].tiles),
        "digest": f"{count}:{versions}",
    }


def digest(shop: Shop) -> str:
    """How many tiles the board has and the sum of their versions: a tablet whose own
    differs has missed a change, and reloads the board."""
    totals = (
        Order.objects.filter(shop=shop)
        .filter(rules.board_filter())
        .aggregate(n=Count("pk"), v=Sum("version"))
    )
    return f"{totals['n']}:{totals['v'] or 0}"


def render_board(shop: Shop, lang: str) -> list[str]:
    """The whole board for a socket, as messages each within the frame limit: the
    board with its first tiles, then the rest lane by lane."""
    with translation.override(lang), timezone.override(shop.timezone):
        context = board_context(shop)
        rest: list[tuple[str, dict]] = []
        room = TILES_PER_MESSAGE
        for lane in context["lanes"]:
            keep, lane.tiles = lane.tiles[:room], lane.tiles[room:]
            rest.extend((lane.key, card) for card in lane.tiles)
            lane.tiles, room = keep, max(0, room - len(keep))
        messages = [render_to_string("orders/board.html#board", context).strip()]
        for start in range(0, len(rest), TILES_PER_MESSAGE):
            chunk = rest[start : start + TILES_PER_MESSAGE]
            by_lane: dict[str, list[dict]] = defaultdict(list)
            for key, card in chunk:
                by_lane[key].append(card)
            messages.append(
                render_to_string("orders/_tiles.html", {"by_lane": dict(by_lane)}).strip()
            )
        return messages


def render_change(
    order: Order,
    stages: list[Stage],
    lang: str,
    *,
    with_alerts: bool = False,
    message: str = "",
    error: bool = False,
) -> str:
    """The out-of-band fragments of one order's change: its tile leaves wherever it
    is and, if still on the board, lands in its lane (the tablet puts it in order);
    the alerts too when the change concerns them. `message`: said at the tile, for
    the tablet that made the change."""
    with translation.override(lang), timezone.override(order.shop.timezone):
        context = {
            "order": order,
            "card": tile(order, stages, order.workflow.key) if rules.on_board(order) else None,
            "with_alerts": with_alerts,
            "alerts": _alerts(order.shop) if with_alerts else [],
            "message": message,
            "error": error,
        }
        return render_to_string("orders/_change.html", context).strip()


def render_alerts(shop: Shop, lang: str) -> str:
    """The alerts alone, out of band (after one was marked as seen)."""
    with translation.override(lang), timezone.override(shop.timezone):
        return render_to_string("orders/_alerts.html", {"alerts": _alerts(shop), "oob": True})


def tiles_for(wanted: list[tuple[int, str, bool]]) -> dict[tuple[int, str, bool], str | None]:
    """The board's fragments of several (order pk, language, with the alerts) at once,
    in two queries (three with the alerts) whatever their number; None: no such order."""
    orders = Order.objects.select_related("shop", "stage", "workflow").in_bulk(
        {pk for pk, _, _ in wanted}
    )
    stages: dict[int, list[Stage]] = defaultdict(list)
    for stage in Stage.objects.filter(workflow_id__in={o.workflow_id for o in orders.values()}):
        stages[stage.workflow_id].append(stage)  # in position order (the model's ordering)
    found: dict[tuple[int, str, bool], str | None] = {}
    for pk, lang, alerts in wanted:
        order = orders.get(pk)
        found[(pk, lang, alerts)] = (
            None
            if order is None
            else render_change(order, stages[order.workflow_id], lang, with_alerts=alerts)
        )
    return found
