"""Customer-facing pages: public by unguessable token, no personal data shown."""

import re
from collections.abc import Callable

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from . import services
from .forms import FeedbackForm, ProblemForm
from .live import LANGS, progress_context
from .models import TOKEN_PATTERN, Order, Shop

TOKEN_RE = re.compile(TOKEN_PATTERN)


def public_language(request: HttpRequest, shop: Shop) -> str:
    """The visitor's choice (?lang=, then cookie), their browser's language, the shop's default.

    ?lang= needs no cookie, so the switcher also works inside third-party iframes.
    """
    for chosen in (
        request.GET.get("lang", ""),
        request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, ""),
    ):
        if chosen in LANGS:
            return chosen
    for code, _q in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        if code[:2].lower() in LANGS:
            return code[:2].lower()
    return shop.language


def _order_by_token(token: str) -> Order | None:
    # Shape first: junk (NUL bytes, huge strings) never reaches the database.
    if not TOKEN_RE.fullmatch(token):
        return None
    return Order.objects.select_related("shop", "stage", "workflow").filter(token=token).first()


def not_found(request: HttpRequest) -> HttpResponse:
    # The same answer for a malformed, unknown or deleted token: nothing to learn from it.
    return render(request, "404.html", status=404)


def _render_progress(
    request: HttpRequest,
    token: str,
    template: str,
    respond: Callable[[Order], tuple[str, int]] | None = None,
) -> HttpResponse:
    """Render the page or the partial; `respond` first acts on the order (a form post)."""
    order = _order_by_token(token)
    if order is None:
        return not_found(request)
    lang = public_language(request, order.shop)
    with translation.override(lang), timezone.override(order.shop.timezone):
        message, status = respond(order) if respond else ("", 200)
        order = _order_by_token(token)
        context = {
            **progress_context(order),
            "lang": lang,
            "poll_seconds": settings.TRACKER_POLL_SECONDS,
            "care_message": message,
        }
        response = render(request, template, context, status=status)
    response["Content-Language"] = lang
    return response


def _care_post(
    request: HttpRequest,
    token: str,
    form_class: type[forms.Form],
    act: Callable[..., object],
    thanks: str,
) -> HttpResponse:
    def respond(order: Order) -> tuple[str, int]:
        form = form_class(request.POST)
        if not form.is_valid():
            name, errors = next(iter(form.errors.items()))
            return f"{form.fields[name].label}: {errors[0]}", 400
        try:
            act(order=order, **form.cleaned_data)
        except services.ActionRefused as refused:
            return refused.message, 409
        return str(thanks), 200

    template = "orders/track.html#progress" if request.htmx else "orders/track.html"
    return _render_progress(request, token, template, respond)


@require_GET
@never_cache
def track(request: HttpRequest, token: str) -> HttpResponse:
    return _render_progress(request, token, "orders/track.html")


@require_GET
@never_cache
def track_progress(request: HttpRequest, token: str) -> HttpResponse:
    """The progress partial alone: polling fallback and resync after a gap."""
    return _render_progress(request, token, "orders/track.html#progress")


# Public posts are authorised by the unguessable token in the URL alone, never by a
# cookie: there is no ambient credential for CSRF to abuse, and inside a shop's
# iframe (where cookies are blocked) they still work.
@csrf_exempt
@require_POST
def track_feedback(request: HttpRequest, token: str) -> HttpResponse:
    return _care_post(
        request, token, FeedbackForm, services.leave_feedback, _("Thank you for your rating!")
    )


@csrf_exempt
@require_POST
def track_problem(request: HttpRequest, token: str) -> HttpResponse:
    return _care_post(
        request,
        token,
        ProblemForm,
        services.report_problem,
        _("Thank you. The shop's staff have your message and will get back to you."),
    )
