"""The staff board: signed-in staff of a shop, touch-first, live across tablets."""

from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, LogoutView
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import announcements, rules, services, tickets
from .board import board_context, digest, render_alerts, render_change
from .consumers import end_staff_sockets
from .forms import CancelForm, DelayForm, NoteForm, OrderCreateForm, PromiseForm, VersionForm
from .models import FORWARD_KINDS, Membership, Order, OrderEvent, Shop, WebhookEndpoint


def signin_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The user name a sign-in tried, as django-axes records it: cut to its 255-character
    column (a longer one, typed or hostile, would fail the insert into a 500)."""
    data = credentials if credentials is not None else getattr(request, "POST", {})
    name = data.get("username")
    return name[:255] if isinstance(name, str) else name


def locked_out(request: HttpRequest, *args: object) -> HttpResponse:
    """Too many failed sign-ins for this account or from this client (django-axes)."""
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    message = ngettext(
        "Too many failed sign-ins. Please try again in %(n)d minute.",
        "Too many failed sign-ins. Please try again in %(n)d minutes.",
        minutes,
    ) % {"n": minutes}
    response = render(request, "registration/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


class StaffLoginView(LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class StaffLogoutView(LogoutView):
    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        # The tablet's open board sockets end with the sign-in, not hours later.
        if request.user.is_authenticated:
            end_staff_sockets(request.user.pk)
        return super().post(request, *args, **kwargs)


def _get_shop_for_staff(request: HttpRequest, slug: str) -> Shop:
    # 404, not 403: staff of another shop learn nothing about this one.
    return get_object_or_404(Shop, slug=slug, memberships__user=request.user)


# What a tap reads: the order with its shop and workflow and, in the same query, whether
# the shop has webhooks (a tap in a shop without them asks nothing more). Built once:
# each request filters a copy (a queryset is never changed by filtering it), which
# spares every tap resolving the subquery anew.
_STAFF_ORDERS = Order.objects.select_related("shop", "workflow").annotate(
    has_webhooks=Exists(WebhookEndpoint.objects.filter(shop_id=OuterRef("shop_id"), active=True))
)


def _get_order_for_staff(request: HttpRequest, pk: int) -> Order:
    order = get_object_or_404(_STAFF_ORDERS, pk=pk, shop__memberships__user=request.user)
    # Its stage from the workflow's stage list, which the tap and its answer use anyway.
    return order.use_listed_stage()


def _board_page(
    request: HttpRequest,
    shop: Shop,
    form: OrderCreateForm | None = None,
    status: int = 200,
    notice_form: "AnnouncementForm | None" = None,
) -> HttpResponse:
    """The board; `form`, `notice_form`: a refused form, shown again as it was typed."""
    with timezone.override(shop.timezone):
        context = {
            **board_context(shop),
            "form": form or OrderCreateForm(shop),
            "lang": get_language(),
            "poll_seconds": settings.TRACKER_POLL_SECONDS,
            "check_seconds": settings.TRACKER_BOARD_CHECK_SECONDS,
            "notice": announcements.current(shop),
            "notice_form": notice_form,
            "is_owner": Membership.objects.filter(
                shop=shop, user=request.user, role=Membership.Role.OWNER
            ).exists(),
        }
        return render(request, "orders/board.html", context, status=status)


def _flash(request: HttpRequest, note: str) -> str:
    return render_to_string("orders/board.html#flash", {"note": note, "oob": True}, request=request)


def _panel_context(order: Order, note: str = "", error: bool = False) -> dict:
    """The order's panel: its state, its actions and its whole history (staff notes too)."""
    return {
        "order": order,
        "events": order.events.select_related("stage").order_by("-version"),
        "can_undo": rules.can_undo(order),
        "stage_kinds": (*FORWARD_KINDS, OrderEvent.Kind.UNDONE),
        "message": note,
        "error": error,
    }


def _panel(request: HttpRequest, order: Order, note: str = "", error: bool = False) -> str:
    return render_to_string(
        "orders/_panel.html", _panel_context(order, note, error), request=request
    )


def _change_answer(
    request: HttpRequest, order: Order, note: str, status: int, *, panel: bool = False
) -> HttpResponse:
    """For htmx: the order's tile where it belongs now, the message at the tile (or in
    its panel, when the change came from there), and in the live region."""
    error = status != 200
    with timezone.override(order.shop.timezone):
        change = render_change(
            order,
            order.workflow_stages(),
            get_language(),
            message="" if panel else note,
            error=error,
        )
        body = _panel(request, order, note, error) if panel else ""
        return HttpResponse(body + change + _flash(request, note), status=status)


@login_required
@require_GET
def board_home(request: HttpRequest) -> HttpResponse:
    shops = list(Shop.objects.filter(memberships__user=request.user))
    if len(shops) == 1:
        return redirect("orders:shop_board", slug=shops[0].slug)
    return render(request, "orders/shops.html", {"shops": shops}, status=200 if shops else 403)


@login_required
@require_GET
def board(request: HttpRequest, slug: str) -> HttpResponse:
    return _board_page(request, _get_shop_for_staff(request, slug))


@login_required
@require_GET
def board_partial(request: HttpRequest, slug: str) -> HttpResponse:
    """The board alone: resync after a socket gap, polling fallback. With ?digest,
    only the board's digest (a tablet checks that it has missed nothing)."""
    shop = _get_shop_for_staff(request, slug)
    if "digest" in request.GET:
        response = HttpResponse(digest(shop), content_type="text/plain")
    else:
        with timezone.override(shop.timezone):
            response = render(request, "orders/board.html#board", board_context(shop))
    response["Cache-Control"] = "no-store"
    return response


HISTORY_PAGE = 50


class HistoryFilter(forms.Form):
    q = forms.CharField(required=False, max_length=80)
    day = forms.DateField(required=False)


@login_required
@require_GET
def history(request: HttpRequest, slug: str) -> HttpResponse:
    """Finished orders of this shop, newest first: by number or name, and by day."""
    shop = _get_shop_for_staff(request, slug)
    with timezone.override(shop.timezone):
        form = HistoryFilter(request.GET)
        orders = (
            Order.objects.filter(
                shop=shop, state__in=[Order.State.COMPLETED, Order.State.CANCELLED]
            )
            .select_related("stage")
            .order_by("-updated_at", "-pk")
        )
        if form.is_valid():
            q, day = form.cleaned_data["q"].strip(), form.cleaned_data["day"]
            if q:
                orders = orders.filter(Q(number__icontains=q) | Q(customer_name__icontains=q))
            if day:
                start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
                orders = orders.filter(
                    updated_at__gte=start, updated_at__lt=start + timedelta(days=1)
                )
        else:
            orders = orders.none()
        page = Paginator(orders, HISTORY_PAGE).get_page(request.GET.get("page"))
        query = urlencode({k: v for k, v in request.GET.items() if k in ("q", "day") and v})
        return render(
            request,
            "orders/history.html",
            {"shop": shop, "form": form, "page": page, "query": query},
        )


@login_required
@require_GET
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One order's panel (htmx, into the board's dialog) or page: actions and history."""
    order = _get_order_for_staff(request, pk)
    with timezone.override(order.shop.timezone):
        if request.htmx:
            return HttpResponse(_panel(request, order))
        return render(request, "orders/order.html", _panel_context(order))


@login_required
@require_POST
def order_create(request: HttpRequest, slug: str) -> HttpResponse:
    shop = _get_shop_for_staff(request, slug)
    form = OrderCreateForm(shop, request.POST)
    if form.is_valid():
        try:
            order = services.create_order(shop=shop, by=request.user, **form.cleaned_data)
        except services.ActionRefused as refused:
            form.add_error(None, refused.message)
        else:
            note = _("Order %(number)s created.") % {"number": order.number}
            if request.htmx:
                return _form_fragment(request, shop, OrderCreateForm(shop), note, order=order)
            messages.success(request, note)
            return redirect("orders:shop_board", slug=shop.slug)
    if request.htmx:
        return _form_fragment(request, shop, form, "", status=422)
    return _board_page(request, shop, form, status=422)


def _form_fragment(
    request: HttpRequest,
    shop: Shop,
    form: OrderCreateForm,
    note: str,
    status: int = 200,
    order: Order | None = None,
) -> HttpResponse:
    """The form again (empty after a success, with its errors after none), the new
    order's tile, and the message."""
    html = render_to_string(
        "orders/board.html#new-order", {"form": form, "shop": shop}, request=request
    )
    if order is not None:
        with timezone.override(shop.timezone):
            html += render_change(order, order.workflow_stages(), get_language(), message=note)
    return HttpResponse(html + _flash(request, note), status=status)


def _problem(form: forms.Form) -> str:
    """The first thing wrong with a form, said plainly."""
    for name, errors in form.errors.items():
        if name in form.fields and name != "version":
            return f"{form.fields[name].label}: {errors[0]}"
        if name == "__all__":
            return errors[0]
    return _("The request was incomplete; please try again.")


def _act(
    request: HttpRequest,
    pk: int,
    form_class: type[forms.Form],
    action: Callable[..., Order],
    done: str,
) -> HttpResponse:
    """Shared shape of every board action: validate, call the service, answer."""
    order = _get_order_for_staff(request, pk)
    # Times typed on the tablet are the shop's wall-clock times.
    with timezone.override(order.shop.timezone):
        form = form_class(request.POST)
        if not form.is_valid():
            note, status = _problem(form), 400
        else:
            kwargs = dict(form.cleaned_data)
            if "version" in kwargs:
                kwargs["expected_version"] = kwargs.pop("version")
            try:
                order = action(order=order, by=request.user, **kwargs)
                note, status = done % {"number": order.number, "stage": order.stage.name}, 200
            except services.ActionRefused as refused:
                note, status = refused.message, 409
                order = refused.order or order  # as it is now, for the answer
    if request.htmx:
        return _change_answer(
            request, order, note, status, panel=request.htmx.target == "panel-body"
        )
    if status == 200:
        messages.success(request, note)
        return redirect("orders:shop_board", slug=order.shop.slug)
    messages.error(request, note)
    return _board_page(request, order.shop, status=status)


@login_required
@require_POST
def order_advance(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, VersionForm, services.advance_order, _("Order %(number)s: %(stage)s."))


@login_required
@require_POST
def order_undo(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request, pk, VersionForm, services.undo_order, _("Order %(number)s is back at %(stage)s.")
    )


@login_required
@require_POST
def order_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request, pk, CancelForm, services.cancel_order, _("Order %(number)s was cancelled.")
    )


@login_required
@require_POST
def order_delay(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request, pk, DelayForm, services.delay_order, _("Order %(number)s is marked delayed.")
    )


@login_required
@require_POST
def order_resume(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request, pk, VersionForm, services.resume_order, _("Order %(number)s is on track again.")
    )


@login_required
@require_POST
def order_note(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, NoteForm, services.add_note, _("Note added to order %(number)s."))


@login_required
@require_POST
def order_promise(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request, pk, PromiseForm, services.set_promise, _("Promise for order %(number)s saved.")
    )


class AnnouncementForm(forms.Form):
    text = forms.CharField(label=_("Notice for every customer"), max_length=200)
    until = forms.DateTimeField(
        label=_("Until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )


@login_required
@require_POST
def announce(request: HttpRequest, slug: str) -> HttpResponse:
    """Post a notice to every customer of the shop until a time, or end it."""
    shop = _get_shop_for_staff(request, slug)
    with timezone.override(shop.timezone):
        if "end" in request.POST:
            announcements.end(shop)
            messages.success(request, _("The notice is gone from every page."))
            return redirect("orders:shop_board", slug=shop.slug)
        form = AnnouncementForm(request.POST)
        if form.is_valid():
            try:
                announcements.post(shop, form.cleaned_data["text"], form.cleaned_data["until"])
            except announcements.Refused as refused:
                messages.error(request, str(refused))
                return _board_page(request, shop, status=422, notice_form=form)
            messages.success(request, _("The notice is on every page of the shop's customers."))
            return redirect("orders:shop_board", slug=shop.slug)
        messages.error(request, _problem(form))
        return _board_page(request, shop, status=422, notice_form=form)


@login_required
@require_GET
def order_ticket(request: HttpRequest, pk: int) -> HttpResponse:
    """A ticket for the shop's receipt printer (58 or 80 mm paper)."""
    order = _get_order_for_staff(request, pk)
    width = 58 if request.GET.get("width") == "58" else 80
    return HttpResponse(tickets.render_ticket(order, width))


@login_required
@require_POST
def alert_seen(request: HttpRequest, pk: int, version: int) -> HttpResponse:
    order = _get_order_for_staff(request, pk)
    try:
        order = services.acknowledge_alert(order=order, by=request.user, version=version)
        note, status = (
            _("Alert on order %(number)s marked as seen.") % {"number": order.number},
            200,
        )
    except services.ActionRefused as refused:
        note, status = refused.message, 409
    if request.htmx:
        with timezone.override(order.shop.timezone):
            alerts = render_alerts(order.shop, get_language())
        return HttpResponse(alerts + _flash(request, note), status=status)
    (messages.success if status == 200 else messages.error)(request, note)
    return redirect("orders:shop_board", slug=order.shop.slug)
