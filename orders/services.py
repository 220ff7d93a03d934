"""Every change of an order goes through one function here (DESIGN.md, "The one rule of state").

Each action, in one transaction: locks the row, checks the version the caller saw,
writes the new state and one OrderEvent, and schedules the broadcast on commit.
"""

from copy import copy
from datetime import datetime, timedelta
from functools import partial

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import phones, rules
from .live import broadcast_order
from .models import FORWARD_KINDS, Feedback, Order, OrderEvent, Shop, Workflow
from .notifications import enqueue_messages
from .webhooks import enqueue_webhooks

# A signed-in user, nobody (the system), or a display name (an API key: "API: POS").
Actor = AbstractBaseUser | AnonymousUser | str | None


class ActionRefused(Exception):
    """The action was not applied; the message is for the person who asked."""

    def __init__(self, message: str, order: Order | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.order = order


class StaleVersion(ActionRefused):
    """Someone else changed the order first (double tap, second tablet)."""


def actor_name(by: Actor) -> str:
    if isinstance(by, str):
        return by[:150]
    if by is None or not by.is_authenticated:
        return _("the system")
    return by.get_full_name() or by.get_username()


def _lock(order: Order, expected_version: int | None) -> Order:
    """The order to change, as a copy (the caller's stays as it was).

    When the caller's copy is at the version the tablet saw (a tap, read just
    before): that copy, and nothing is locked. `_record` writes only if the row is
    still at that version (or has only taken asides since), so of two taps on one
    version exactly one lands and the other is refused as stale, at the cost of
    no second read.

    Otherwise (the API, the customer, the admin, an older copy): the row is locked
    and read afresh, and checked against the version if one is given: a tap is
    stale if the order took a step since (`_stepped_since`). It is
    locked alone: a locking query with joins also locks the shop's row
    (serialising every tap of a shop) and, under contention, PostgreSQL's recheck
    of the joined rows returned no row at all. What a change never moves, the shop
    and the workflow, comes from the caller's copy.
    """
    if expected_version is not None and order.version == expected_version:
        locked = copy(order)
        locked.__dict__.pop("_workflow_stages", None)  # read afresh with the change
    else:
        locked = Order.objects.select_for_update().get(pk=order.pk)
        locked.shop, locked.workflow = order.shop, order.workflow
    locked.use_listed_stage()
    if (
        expected_version is not None
        and locked.version != expected_version
        and (locked.version < expected_version or _stepped_since(locked.pk, expected_version))
    ):
        raise StaleVersion(_stale_message(locked), locked)
    return locked


def _stepped_since(order_pk: int, version: int) -> bool:
    """Whether the order took a step after `version`: a tap on what the tablet saw
    then is stale only if so. Asides (notes, promises, alerts seen, a rating, the
    link opened…) leave the step it asks for as valid as it was."""
    return (
        OrderEvent.objects.filter(order_id=order_pk, version__gt=version)
        .exclude(kind__in=rules.ASIDE_KINDS)
        .exists()
    )


def _stale_message(order: Order) -> str:
    last = order.events.order_by("-version").first()
    params = {
        "number": order.number,
        "stage": order.stage.name,
        "who": last.by_name if last and last.by_name else _("someone else"),
    }
    if last and last.kind == OrderEvent.Kind.CANCELLED:
        return _("Order %(number)s was already cancelled by %(who)s.") % params
    if last and last.kind in (OrderEvent.Kind.ADVANCED, OrderEvent.Kind.COMPLETED):
        return _("Order %(number)s was already moved to “%(stage)s” by %(who)s.") % params
    return _("Order %(number)s was already changed by %(who)s; it is at “%(stage)s”.") % params


def _record(
    order: Order,
    kind: str,
    by: Actor,
    fields: list[str],
    text: str = "",
    public: bool = True,
    acknowledges: OrderEvent | None = None,
    by_customer: bool = False,
) -> Order:
    order.version += 1
    if kind not in rules.ASIDE_KINDS:
        order.last_action = kind
    order.updated_at = timezone.now()
    names = [*fields, "version", "last_action", "updated_at"]
    read_at = order.version - 1
    if not Order.objects.filter(pk=order.pk, version=read_at).update(
        **{name: getattr(order, name) for name in names}
    ):
        # Changed since it was read (see _lock). Asides alone (a note, the link
        # opened…): this change still stands, after them. A step: nothing of this
        # change is kept, and the tablet is told who moved it and where.
        current = Order.objects.select_for_update().get(pk=order.pk)
        if _stepped_since(order.pk, read_at):
            current = Order.objects.select_related("shop", "workflow").get(pk=order.pk)
            raise StaleVersion(_stale_message(current.use_listed_stage()), current)
        order.version = current.version + 1
        Order.objects.filter(pk=order.pk).update(**{name: getattr(order, name) for name in names})
        written = {Order._meta.get_field(name).attname for name in names}
        for field in Order._meta.concrete_fields:  # what the asides changed
            if field.attname not in written:
                setattr(order, field.attname, getattr(current, field.attname))
    event = OrderEvent.objects.create(
        order=order,
        version=order.version,
        kind=kind,
        stage=order.stage,
        by=by if not isinstance(by, str | None) and by.is_authenticated else None,
        by_name=actor_name(by),
        text=text,
        public=public,
        acknowledges=acknowledges,
        by_customer=by_customer,
    )
    # Messages and webhooks join the same transaction: they exist if and only if
    # the change does, once per change (orders.outbox sends them).
    enqueue_messages(order, event)
    enqueue_webhooks(order, event)
    # After commit only, and robust: a dead channel layer never undoes a tap. The
    # order goes as written (a copy: callers keep theirs), so the broadcast need not
    # read it again; a later change broadcasts its own, and pages keep the highest version.
    transaction.on_commit(partial(broadcast_order, order.pk, copy(order), kind), robust=True)
    return order


def _require_open(order: Order) -> None:
    if order.state == Order.State.CANCELLED:
        raise ActionRefused(_("Order %(number)s is cancelled.") % {"number": order.number}, order)
    if order.state == Order.State.COMPLETED:
        raise ActionRefused(
            _("Order %(number)s is already completed.") % {"number": order.number}, order
        )


def pick_workflow(shop: Shop, key: str | None) -> Workflow:
    """The shop's workflow with this key, or its first one when no key is given."""
    workflows = shop.workflows.all()
    workflow = workflows.filter(key=key).first() if key else workflows.first()
    if workflow is None:
        available = ", ".join(workflows.values_list("key", flat=True)) or "—"
        raise ActionRefused(_("No such workflow (available: %(keys)s).") % {"keys": available})
    return workflow


def _phone(raw: str, shop: Shop) -> str:
    """The customer's phone as stored: E.164, read in the shop's country."""
    try:
        return phones.normalize(raw, phones.region(shop.phone))
    except phones.InvalidPhone as invalid:
        raise ActionRefused(invalid.message) from None


@transaction.atomic
def create_order(
    *,
    shop: Shop,
    workflow: Workflow,
    number: str,
    customer_name: str,
    phone: str = "",
    email: str = "",
    summary: str = "",
    language: str = "",
    promise_start: datetime | None = None,
    promise_end: datetime | None = None,
    by: Actor = None,
) -> Order:
    number, customer_name = number.strip(), customer_name.strip()
    phone = _phone(phone, shop)
    check_promise(promise_start, promise_end)
    if workflow.shop_id != shop.pk:
        raise ActionRefused(_("This workflow belongs to another shop."))
    if not number or not customer_name:
        raise ActionRefused(_("An order needs a number and a customer name."))
    first = workflow.stages.order_by("position").first()
    if first is None:
        raise ActionRefused(_("This workflow has no stages yet."))
    try:
        # A savepoint, so a duplicate number leaves the outer transaction usable.
        with transaction.atomic():
            order = Order.objects.create(
                shop=shop,
                workflow=workflow,
                number=number,
                customer_name=customer_name,
                phone=phone,
                email=email.strip(),
                summary=summary.strip(),
                language=language,
                promise_start=promise_start,
                promise_end=promise_end,
                stage=first,
                stage_since=timezone.now(),
                version=0,
            )
    except IntegrityError:
        raise ActionRefused(
            _("Order number %(number)s already exists in this shop.") % {"number": number}
        ) from None
    return _record(order, OrderEvent.Kind.CREATED, by, fields=[])


def _clear_delay(order: Order) -> list[str]:
    order.delay_reason = order.delay_action = ""
    order.delay_until = None
    return ["delay_reason", "delay_action", "delay_until"]


@transaction.atomic
def advance_order(*, order: Order, by: Actor, expected_version: int) -> Order:
    order = _lock(order, expected_version)
    _require_open(order)
    # The next stage and whether one follows it.
    following = [s for s in order.workflow_stages() if s.position > order.stage.position][:2]
    if not following:
        raise ActionRefused(
            _("Order %(number)s is already at its last stage.") % {"number": order.number}, order
        )
    order.stage = following[0]
    order.previous_stage_since, order.stage_since = order.stage_since, timezone.now()
    # Moving on ends a delay: the bar itself now tells the customer it moves again.
    fields = ["stage", "stage_since", "previous_stage_since", "state", *_clear_delay(order)]
    order.state = Order.State.ACTIVE
    kind = OrderEvent.Kind.ADVANCED
    if len(following) == 1:
        order.state = Order.State.COMPLETED
        kind = OrderEvent.Kind.COMPLETED
    return _record(order, kind, by, fields=fields)


@transaction.atomic
def undo_order(*, order: Order, by: Actor, expected_version: int) -> Order:
    order = _lock(order, expected_version)
    if not rules.can_undo(order):
        raise ActionRefused(
            _("The last step of order %(number)s can no longer be undone.")
            % {"number": order.number},
            order,
        )
    earlier = [s for s in order.workflow_stages() if s.position < order.stage.position]
    previous = earlier[-1] if earlier else None
    order.stage = previous
    # Back to the time the stage was reached, so the ETA stays honest: kept by the
    # step being undone (its history, for steps made before it was kept).
    arrived = order.previous_stage_since
    if arrived is None:
        event = (
            order.events.filter(stage=previous, kind__in=FORWARD_KINDS).order_by("-version").first()
        )
        arrived = event.created_at if event else order.created_at
    order.stage_since, order.previous_stage_since = arrived, None
    order.state = Order.State.ACTIVE
    fields = ["stage", "stage_since", "previous_stage_since", "state"]
    return _record(order, OrderEvent.Kind.UNDONE, by, fields=fields)


@transaction.atomic
def cancel_order(*, order: Order, by: Actor, expected_version: int, reason: str) -> Order:
    reason = reason.strip()
    if not reason:
        raise ActionRefused(_("Please give a reason for the cancellation."), order)
    order = _lock(order, expected_version)
    _require_open(order)
    order.state = Order.State.CANCELLED
    order.cancel_reason = reason[:200]
    return _record(
        order, OrderEvent.Kind.CANCELLED, by, fields=["state", "cancel_reason"], text=reason[:200]
    )


@transaction.atomic
def delay_order(
    *,
    order: Order,
    by: Actor,
    expected_version: int,
    reason: str,
    action: str = "",
    new_time: datetime | None = None,
) -> Order:
    """Say honestly that the order is late: why, what is being done, and the new time."""
    reason, action = reason.strip()[:200], action.strip()[:200]
    if not reason:
        raise ActionRefused(_("Please say why the order is delayed."), order)
    if new_time is not None and new_time <= timezone.now():
        raise ActionRefused(_("The new time must be in the future."), order)
    order = _lock(order, expected_version)
    _require_open(order)
    order.state = Order.State.DELAYED
    order.delay_reason, order.delay_action, order.delay_until = reason, action, new_time
    fields = ["state", "delay_reason", "delay_action", "delay_until"]
    return _record(order, OrderEvent.Kind.DELAYED, by, fields=fields, text=reason)


@transaction.atomic
def resume_order(*, order: Order, by: Actor, expected_version: int) -> Order:
    order = _lock(order, expected_version)
    if not order.is_delayed:
        raise ActionRefused(_("Order %(number)s is not delayed.") % {"number": order.number}, order)
    order.state = Order.State.ACTIVE
    return _record(order, OrderEvent.Kind.RESUMED, by, fields=["state", *_clear_delay(order)])


@transaction.atomic
def add_note(*, order: Order, by: Actor, text: str, public: bool) -> Order:
    """A note for the customer (public) or for staff only; never both.

    No version check: a note from a tablet that has not seen the latest change
    is still true, and refusing it would only lose it.
    """
    text = text.strip()
    if not text or len(text) > 500:
        raise ActionRefused(_("A note needs between 1 and 500 characters."), order)
    order = _lock(order, None)
    return _record(order, OrderEvent.Kind.NOTE, by, fields=[], text=text, public=public)


def check_promise(start: datetime | None, end: datetime | None, order: Order | None = None) -> None:
    """A promise is a time or a window that has not passed yet; None for both: none."""
    if (start is None) != (end is None):
        raise ActionRefused(_("A promise needs both a start and an end."), order)
    if start is not None and end < start:
        raise ActionRefused(_("The window must end after it starts."), order)
    if end is not None and end <= timezone.now():
        # A customer would read "Promised: yesterday 15:00" on a live tracker.
        raise ActionRefused(_("The promised time must be in the future."), order)


@transaction.atomic
def set_promise(
    *,
    order: Order,
    by: Actor,
    expected_version: int,
    start: datetime | None,
    end: datetime | None,
) -> Order:
    """Promise a time (start == end) or a window; None for both withdraws the promise."""
    check_promise(start, end, order)
    order = _lock(order, expected_version)
    _require_open(order)
    order.promise_start, order.promise_end = start, end
    return _record(order, OrderEvent.Kind.PROMISED, by, fields=["promise_start", "promise_end"])


PROBLEMS_PER_HOUR = 5


@transaction.atomic
def customer_cancel(*, order: Order, reason: str = "") -> Order:
    """The customer cancels from the tracker, while the workflow allows it."""
    order = _lock(order, None)
    _require_open(order)
    if not rules.customer_may_cancel(order, order.workflow_stages()):
        raise ActionRefused(
            _(
                "Order %(number)s can no longer be cancelled here: it is at “%(stage)s”. "
                "Please call the shop."
            )
            % {"number": order.number, "stage": order.stage.name},
            order,
        )
    order.state = Order.State.CANCELLED
    order.cancel_reason = (reason.strip() or _("Cancelled by the customer"))[:200]
    return _record(
        order,
        OrderEvent.Kind.CANCELLED,
        _("the customer"),
        fields=["state", "cancel_reason"],
        text=order.cancel_reason,
        by_customer=True,
    )


@transaction.atomic
def customer_confirm(*, order: Order) -> Order:
    """The customer says "got it, all good": at pickup this hands the order over (its
    last stage); after the last stage it is recorded for the staff to see."""
    order = _lock(order, None)
    if not rules.customer_may_confirm(order):
        raise ActionRefused(_("There is nothing to confirm for this order now."), order)
    fields = []
    if order.state != Order.State.COMPLETED:
        order.stage, order.stage_since = order.workflow_stages()[-1], timezone.now()
        order.state = Order.State.COMPLETED
        fields = ["stage", "stage_since", "state"]
    return _record(order, OrderEvent.Kind.CONFIRMED, _("the customer"), fields, by_customer=True)


@transaction.atomic
def report_problem(*, order: Order, text: str) -> Order:
    """A customer's short message to the shop's staff, from the tracker, at any stage."""
    text = text.strip()
    if not text or len(text) > 500:
        raise ActionRefused(_("Please describe the problem in 1 to 500 characters."), order)
    order = _lock(order, None)
    hour_ago = timezone.now() - timedelta(hours=1)
    if order.events.filter(kind=OrderEvent.Kind.PROBLEM, created_at__gte=hour_ago).count() >= (
        PROBLEMS_PER_HOUR
    ):
        raise ActionRefused(
            _("We already have several messages about this order; please call the shop."), order
        )
    # Staff-only: the customer's words go to the staff, not back onto public pages.
    return _record(order, OrderEvent.Kind.PROBLEM, None, fields=[], text=text, public=False)


@transaction.atomic
def leave_feedback(*, order: Order, rating: int, comment: str = "") -> Feedback:
    """One rating per order after its last stage; it may be changed for a short while."""
    comment = comment.strip()
    if not 1 <= rating <= 5:
        raise ActionRefused(_("Please choose a rating from 1 to 5."), order)
    if len(comment) > 1000:
        raise ActionRefused(_("Please keep the comment under 1000 characters."), order)
    order = _lock(order, None)
    if order.state != Order.State.COMPLETED:
        raise ActionRefused(_("You can rate the order once it is done."), order)
    feedback = Feedback.objects.filter(order=order).first()
    if feedback is not None and (feedback.rating, feedback.comment) == (rating, comment):
        return feedback  # the same rating again (a double tap): nothing changes
    # Every rating after the first is a change; each one notifies the shop.
    changes = order.events.filter(kind=OrderEvent.Kind.FEEDBACK).count() - 1
    if not rules.feedback_editable(feedback, changes):
        raise ActionRefused(
            _("Thank you! Your rating is saved and can no longer be changed."), order
        )
    if feedback is None:
        feedback = Feedback(order=order)
    feedback.rating, feedback.comment = rating, comment
    feedback.save()
    _record(order, OrderEvent.Kind.FEEDBACK, None, fields=[], text=f"{rating}/5", public=False)
    return feedback


@transaction.atomic
def acknowledge_alert(*, order: Order, by: Actor, version: int) -> Order:
    """A staff member has seen a problem report or a low rating: it leaves every
    tablet's alerts, and the history says who saw it."""
    order = _lock(order, None)
    alert = order.events.filter(
        version=version, kind__in=[OrderEvent.Kind.PROBLEM, OrderEvent.Kind.FEEDBACK]
    ).first()
    if alert is None:
        raise ActionRefused(
            _("There is no such alert on order %(number)s.") % {"number": order.number}, order
        )
    if alert.acknowledgements.exists():
        seen = alert.acknowledgements.first()
        raise ActionRefused(
            _("Already seen by %(who)s.") % {"who": seen.by_name or _("someone else")}, order
        )
    return _record(order, OrderEvent.Kind.SEEN, by, fields=[], public=False, acknowledges=alert)


@transaction.atomic
def unsubscribe(*, order: Order) -> Order:
    """The customer stops messages about this order (their one-click link). Once."""
    order = _lock(order, None)
    if order.unsubscribed_at is not None:
        return order
    order.unsubscribed_at = timezone.now()
    return _record(
        order, OrderEvent.Kind.UNSUBSCRIBED, None, fields=["unsubscribed_at"], public=False
    )


@transaction.atomic
def mark_opened(*, order: Order) -> Order:
    """The customer opened the tracking link for the first time (the owner's numbers
    count these). Once: later openings change nothing."""
    if order.opened_at is not None:
        return order
    order = _lock(order, None)
    if order.opened_at is not None:
        return order
    order.opened_at = timezone.now()
    return _record(
        order,
        OrderEvent.Kind.OPENED,
        _("the customer"),
        fields=["opened_at"],
        public=False,
        by_customer=True,
    )


# What may be corrected on an order after it is made (by the operator, in the admin).
EDITABLE_DETAILS = ("number", "customer_name", "phone", "email", "summary", "language")


@transaction.atomic
def edit_details(*, order: Order, by: Actor, changes: dict[str, str]) -> Order:
    """Correct an order's details. The event names the fields, never their values: the
    history is shown to staff and sent in webhooks, and contacts are private."""
    unknown = set(changes) - set(EDITABLE_DETAILS)
    if unknown:
        raise ActionRefused(
            _("These details cannot be edited: %(names)s.") % {"names": ", ".join(sorted(unknown))},
            order,
        )
    order = _lock(order, None)
    if "phone" in changes:
        changes = {**changes, "phone": _phone(changes["phone"], order.shop)}
    changed = [name for name, value in changes.items() if getattr(order, name) != value]
    if not changed:
        return order
    if "number" in changed and (
        Order.objects.filter(shop_id=order.shop_id, number=changes["number"])
        .exclude(pk=order.pk)
        .exists()
    ):
        raise ActionRefused(
            _("Order number %(number)s is already in use.") % {"number": changes["number"]}, order
        )
    for name in changed:
        setattr(order, name, changes[name])
    return _record(
        order, OrderEvent.Kind.EDITED, by, fields=changed, text=", ".join(changed), public=False
    )
