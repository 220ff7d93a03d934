"""Customer-facing pages: public by unguessable token, no personal data shown."""

import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

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
    return render(request, "orders/not_found.html", status=404)


def _render_progress(request: HttpRequest, token: str, template: str) -> HttpResponse:
    order = _order_by_token(token)
    if order is None:
        return not_found(request)
    lang = public_language(request, order.shop)
    context = {
        **progress_context(order),
        "lang": lang,
        "poll_seconds": settings.TRACKER_POLL_SECONDS,
    }
    with translation.override(lang), timezone.override(order.shop.timezone):
        response = render(request, template, context)
    response["Content-Language"] = lang
    return response


@require_GET
@never_cache
def track(request: HttpRequest, token: str) -> HttpResponse:
    return _render_progress(request, token, "orders/track.html")


@require_GET
@never_cache
def track_progress(request: HttpRequest, token: str) -> HttpResponse:
    """The progress partial alone: polling fallback and resync after a gap."""
    return _render_progress(request, token, "orders/track.html#progress")
