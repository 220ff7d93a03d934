"""What the customer's pages show: an order's progress, read and rendered.

The tracking page, the embed and the sockets all take the progress fragment from
here; when it is late and what the estimate says come from orders.rules. The
last fragment of each order and language is kept, so a read whose order has not
changed costs one indexed read of its version.
"""

import threading
import time
from collections import OrderedDict, defaultdict
from datetime import datetime

from django.db.models import Max
from django.template.loader import get_template, render_to_string
from django.utils import timezone, translation

from . import rules
from .models import FORWARD_KINDS, Feedback, Order, OrderEvent, Stage

# The languages the pages speak.
LANGS = ("ru", "en")


# The templates every change and connect renders, parsed when a server process starts:
# otherwise the first requests after a restart (a reconnect storm, a burst of taps)
# each parse them at once, because the template cache fills only after a parse.
HOT_TEMPLATES = (
    "orders/track.html",
    "orders/track.html#progress",
    "orders/embed.html",
    "orders/board.html",
    "orders/board.html#board",
    "orders/_tile.html",
    "orders/_change.html",
)


def warm_templates() -> None:
    for name in HOT_TEMPLATES:
        get_template(name)


def _segments(order: Order, stages: list[Stage], reached: dict[int, datetime]) -> list[dict]:
    """`reached`: when each stage was (last) arrived at by moving forward; an undo
    returns to a stage that keeps its original time, and a cancel arrives nowhere."""
    segments = []
    for stage in stages:
        if stage.position < order.stage.position or (
            stage.pk == order.stage_id and order.state == Order.State.COMPLETED
        ):
            status = "done"
        elif stage.pk == order.stage_id:
            status = "current"
        else:
            status = "upcoming"
        segments.append(
            {
                "stage": stage,
                "status": status,
                "reached_at": reached.get(stage.pk) if status != "upcoming" else None,
            }
        )
    return segments


def _arrivals(order_ids: list[int]) -> dict[int, dict[int, datetime]]:
    """Per order, when each stage was last reached moving forward: one row per stage,
    however long the order's history (an advance/undo loop makes it long)."""
    reached: dict[int, dict[int, datetime]] = defaultdict(dict)
    rows = (
        OrderEvent.objects.filter(order_id__in=order_ids, kind__in=FORWARD_KINDS)
        .order_by()  # no default ordering in the GROUP BY
        .values_list("order_id", "stage_id")
        .annotate(at=Max("created_at"))
    )
    for order_id, stage_id, at in rows:
        reached[order_id][stage_id] = at
    return reached


def _public_notes(order_ids: list[int]):  # noqa: ANN202
    # Staff-only notes are filtered out here, in the query, so no public render can
    # ever see them.
    return (
        OrderEvent.objects.filter(order_id__in=order_ids, kind=OrderEvent.Kind.NOTE, public=True)
        .only("order_id", "created_at", "text")
        .order_by("-version")
    )


def progress_context(order: Order, stages: list[Stage] | None = None) -> dict:
    """What the progress fragment shows; `stages`: the workflow's, if already read."""
    if stages is None:
        stages = list(order.workflow.stages.all())
    reached = _arrivals([order.pk])[order.pk]
    notes = list(_public_notes([order.pk])[:NOTES_SHOWN])
    return _progress_context(
        order, stages, reached, notes, Feedback.objects.filter(order=order).first()
    )


def progress_contexts(orders: list[Order]) -> dict[int, dict]:
    """progress_context of several orders, by pk, in four queries whatever their number."""
    pks = [order.pk for order in orders]
    stages: dict[int, list[Stage]] = defaultdict(list)
    for stage in Stage.objects.filter(workflow_id__in={o.workflow_id for o in orders}):
        stages[stage.workflow_id].append(stage)  # in position order (the model's ordering)
    reached = _arrivals(pks)
    notes: dict[int, list[OrderEvent]] = defaultdict(list)
    for note in _public_notes(pks):
        if len(notes[note.order_id]) < NOTES_SHOWN:
            notes[note.order_id].append(note)
    feedback = {f.order_id: f for f in Feedback.objects.filter(order_id__in=pks)}
    return {
        o.pk: _progress_context(
            o, stages[o.workflow_id], reached[o.pk], notes[o.pk], feedback.get(o.pk)
        )
        for o in orders
    }


NOTES_SHOWN = 5


def _progress_context(
    order: Order,
    stages: list[Stage],
    reached: dict[int, datetime],
    notes: list[OrderEvent],
    feedback: Feedback | None,
) -> dict:
    return {
        "feedback": feedback,
        "feedback_editable": rules.feedback_editable(feedback),
        "order": order,
        "shop": order.shop,
        "segments": _segments(order, stages, reached),
        "stage_count": len(stages),
        "position": rules.stage_number(order, stages),
        "eta": rules.estimate(order, stages),
        "notes": notes,
        "may_cancel": rules.customer_may_cancel(order, stages),
        "cancel_offered": order.workflow.customer_cancel_until_id is not None,
        "may_confirm": rules.customer_may_confirm(order),
    }


def render_progress(order: Order, lang: str, context: dict | None = None) -> str:
    wording = rules.customer_language(order.shop, lang)
    with translation.override(wording), timezone.override(order.shop.timezone):
        context = {**(context or progress_context(order)), "lang": lang}
        return render_to_string("orders/track.html#progress", context).strip()


# The last progress fragment of each order and language, for the sockets (snapshots
# and changes) and the pages: a read whose order has not changed costs one indexed
# read of the order's version, not five queries and a render. Keyed by what a change always moves
# (every action bumps the version and updated_at) and by the minute, because
# estimates and times are shown to the minute; a stage renamed in the admin, which
# moves no order, shows from the next minute. Bounded: least recently used go first.
# Used by the sockets' thread and by request threads: one lock.
_SNAPSHOTS: OrderedDict[tuple[str, str], tuple[tuple, str]] = OrderedDict()
_SNAPSHOTS_MAX = 5_000
_SNAPSHOTS_LOCK = threading.Lock()


def _snapshot_key(version: int, updated_at: datetime) -> tuple:
    return (version, updated_at, int(time.time() // 60))


def _remember(token: str, lang: str, key: tuple, html: str) -> None:
    with _SNAPSHOTS_LOCK:
        _SNAPSHOTS[(token, lang)] = (key, html)
        _SNAPSHOTS.move_to_end((token, lang))
        while len(_SNAPSHOTS) > _SNAPSHOTS_MAX:
            _SNAPSHOTS.popitem(last=False)


def _recall(token: str, lang: str, key: tuple) -> str | None:
    with _SNAPSHOTS_LOCK:
        cached = _SNAPSHOTS.get((token, lang))
        if cached is None or cached[0] != key:
            return None
        _SNAPSHOTS.move_to_end((token, lang))
        return cached[1]


def order_for_token(token: str) -> Order | None:
    """The order with what its pages show (shop, stage, workflow), or None."""
    # get(), not first(): a unique token needs no ORDER BY, and compiling one costs.
    try:
        return Order.objects.select_related("shop", "stage", "workflow").get(token=token)
    except Order.DoesNotExist:
        return None


def cached_progress(order: Order, lang: str) -> str:
    """The order's progress fragment as it is now: from the cache, or rendered into it."""
    key = _snapshot_key(order.version, order.updated_at)
    html = _recall(order.token, lang, key)
    if html is None:
        html = render_progress(order, lang)
        _remember(order.token, lang, key, html)
    return html


def progress_for_token(token: str, lang: str) -> str | None:
    """The order's progress fragment, from the snapshot cache when it is current."""
    return progress_for_tokens([(token, lang)])[(token, lang)]


def progress_for_tokens(wanted: list[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
    """The progress fragments of several (token, language) at once (None: no such order).

    Sockets that connect together share these reads: one query for the versions,
    and for the orders not in the snapshot cache five more, whatever their number
    (one query per connect was half the socket thread's time in a connect burst).
    """
    versions = {
        token: (version, updated_at)
        for token, version, updated_at in Order.objects.filter(
            token__in={token for token, _ in wanted}
        ).values_list("token", "version", "updated_at")
    }
    found: dict[tuple[str, str], str | None] = {}
    for token, lang in wanted:
        row = versions.get(token)
        found[(token, lang)] = None if row is None else _recall(token, lang, _snapshot_key(*row))
    missed = [want for want in found if found[want] is None and want[0] in versions]
    if missed:
        orders = Order.objects.select_related("shop", "stage", "workflow").in_bulk(
            {token for token, _ in missed}, field_name="token"
        )
        contexts = progress_contexts(list(orders.values()))
        for token, lang in missed:
            order = orders.get(token)  # None: deleted since the first read
            if order is not None:
                html = render_progress(order, lang, contexts[order.pk])
                _remember(token, lang, _snapshot_key(order.version, order.updated_at), html)
                found[(token, lang)] = html
    return found
