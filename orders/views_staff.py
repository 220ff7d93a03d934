"""The staff board: signed-in staff of a shop, touch-first, live across tablets."""

from collections.abc import Callable

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import services
from .forms import CancelForm, DelayForm, NoteForm, OrderCreateForm, PromiseForm, VersionForm
from .live import board_context, take_board, with_card_html
from .models import Order, Shop


class StaffLoginView(LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class StaffLogoutView(LogoutView):
    pass


def _get_shop_for_staff(request: HttpRequest, slug: str) -> Shop:
    # 404, not 403: staff of another shop learn nothing about this one.
    return get_object_or_404(Shop, slug=slug, memberships__user=request.user)


def _get_order_for_staff(request: HttpRequest, pk: int) -> Order:
    return get_object_or_404(
        Order.objects.select_related("shop", "stage"), pk=pk, shop__memberships__user=request.user
    )


def _board_page(
    request: HttpRequest, shop: Shop, form: OrderCreateForm | None = None, status: int = 200
) -> HttpResponse:
    with timezone.override(shop.timezone):
        context = {
            **board_context(shop),
            "form": form or OrderCreateForm(shop),
            "lang": get_language(),
            "poll_seconds": settings.TRACKER_POLL_SECONDS,
        }
        return render(request, "orders/board.html", context, status=status)


def _board_fragment(
    request: HttpRequest,
    shop: Shop,
    note: str = "",
    status: int = 200,
    form_html: str = "",
    just_read: tuple[dict, dict[str, str]] | None = None,
) -> HttpResponse:
    """For htmx: the board and an out-of-band message (the board too, after a form).

    `just_read`: the board as the change's broadcast just read and rendered it."""
    context, rendered = just_read or (None, {})
    with timezone.override(shop.timezone):
        # The broadcast's HTML in this language is this answer's board, unless it
        # goes out of band (after a form).
        board = "" if form_html else rendered.get(get_language(), "")
        board = board or render_to_string(
            "orders/board.html#board",
            {**with_card_html(context or board_context(shop)), "oob": bool(form_html)},
            request=request,
        )
        flash = render_to_string(
            "orders/board.html#flash", {"note": note, "oob": True}, request=request
        )
    return HttpResponse(form_html + board + flash, status=status)


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
    """The board alone: resync after a socket gap, polling fallback."""
    shop = _get_shop_for_staff(request, slug)
    with timezone.override(shop.timezone):
        response = render(request, "orders/board.html#board", board_context(shop))
    response["Cache-Control"] = "no-store"
    return response


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
                return _form_fragment(request, shop, OrderCreateForm(shop), note)
            messages.success(request, note)
            return redirect("orders:shop_board", slug=shop.slug)
    if request.htmx:
        return _form_fragment(request, shop, form, "", status=422)
    return _board_page(request, shop, form, status=422)


def _form_fragment(
    request: HttpRequest, shop: Shop, form: OrderCreateForm, note: str, status: int = 200
) -> HttpResponse:
    form_html = render_to_string(
        "orders/board.html#new-order", {"form": form, "shop": shop}, request=request
    )
    return _board_fragment(request, shop, note, status, form_html=form_html)


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
    if request.htmx:
        read = take_board(order.shop_id) if status == 200 else None
        return _board_fragment(request, order.shop, note, status, just_read=read)
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
