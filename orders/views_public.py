"""Customer-facing pages: public by unguessable token, no personal data shown."""

import re
from collections.abc import Callable

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tracker.clientaddr import request_client_address

from . import announcements, phones, ratelimit, rules, services, tickets
from .display import render_display, shop_for_link
from .forms import ConfirmForm, CustomerCancelForm, FeedbackForm, LookupForm, ProblemForm
from .models import TOKEN_PATTERN, Order, Shop, ShopLogo
from .selectors import LANGS, cached_progress, order_for_token, progress_context

TOKEN_RE = re.compile(TOKEN_PATTERN)
PROGRESS = "orders/track.html#progress"


# One Accept-Language entry: a language range, then an optional weight (q=0 to 1).
ACCEPT_LANGUAGE = re.compile(
    r"\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([01](?:\.\d{0,3})?))?\s*"
)


def browser_languages(header: str) -> list[str]:
    """Accept-Language's languages (RFC 9110), most wanted first, lower case; q=0 and
    malformed entries left out. The first 20 entries are read."""
    ranked = []
    for n, entry in enumerate(header.split(",")[:20]):
        match = ACCEPT_LANGUAGE.fullmatch(entry)
        if match is None:
            continue
        weight = float(match.group(2) or 1)
        if weight > 0:
            ranked.append((-weight, n, match.group(1).lower()))
    return [code for _weight, _n, code in sorted(ranked)]


def public_language(request: HttpRequest, shop: Shop | None) -> str:
    """The visitor's choice (?lang=, then cookie), their browser's language, the shop's default
    (the site's without a shop).

    ?lang= needs no cookie, so the switcher also works inside third-party iframes.
    """
    for chosen in (
        request.GET.get("lang", ""),
        request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, ""),
    ):
        if chosen in LANGS:
            return chosen
    for code in browser_languages(request.headers.get("Accept-Language", "")):
        if code[:2] in LANGS:
            return code[:2]
    return shop.language if shop is not None else settings.LANGUAGE_CODE[:2]


def _order_by_token(token: str) -> Order | None:
    # Shape first: junk (NUL bytes, huge strings) never reaches the database.
    if not TOKEN_RE.fullmatch(token):
        return None
    return order_for_token(token)


def not_found(request: HttpRequest) -> HttpResponse:
    # The same answer for a malformed, unknown or deleted token: nothing to learn from it.
    return render(request, "404.html", status=404)


def _render_progress(
    request: HttpRequest,
    order: Order,
    template: str,
    respond: Callable[[Order], tuple[str, int]] | None = None,
    extra: dict | None = None,
) -> HttpResponse:
    """Render the page or the partial; `respond` first acts on the order (a form post).

    A plain view shows the same progress fragment the sockets push, from the snapshot
    cache: an unchanged order costs the one read of it and no render of its progress.
    A form post's answer carries its message inside the fragment, so it is rendered.
    """
    lang = public_language(request, order.shop)
    wording = rules.customer_language(order.shop, lang)
    with translation.override(wording), timezone.override(order.shop.timezone):
        message, status = "", 200
        if respond:
            message, status = respond(order)
            order = _order_by_token(order.token)
        elif template != PROGRESS and order.opened_at is None and request.method == "GET":
            # The first opening is recorded before the render, so the page shows
            # (and the fragment cache keeps) the order as it is after it.
            order = services.mark_opened(order=order)
        context = {
            "order": order,
            "shop": order.shop,
            "lang": lang,
            "poll_seconds": settings.TRACKER_POLL_SECONDS,
            **(extra or {}),
        }
        if message:
            context.update(progress_context(order), care_message=message)
            response = render(request, template, context, status=status)
        elif template == PROGRESS:
            response = HttpResponse(cached_progress(order, lang))
        else:
            context["progress_html"] = mark_safe(cached_progress(order, lang))  # noqa: S308 (our own render)
            context["announcement_html"] = mark_safe(announcements.render(order.shop, lang))  # noqa: S308
            response = render(request, template, context)
    response["Content-Language"] = lang
    return response


def _progress_by_token(
    request: HttpRequest,
    token: str,
    template: str,
    respond: Callable[[Order], tuple[str, int]] | None = None,
) -> HttpResponse:
    order = _order_by_token(token)
    if order is None:
        return not_found(request)
    return _render_progress(request, order, template, respond)


def embeddable(response: HttpResponse, shop: Shop | None) -> HttpResponse:
    """Only the shop's listed origins may frame this response; none listed: nobody."""
    origins = shop.frame_origins if shop is not None else []
    response.frame_ancestors = origins
    if origins:
        # CSP frame-ancestors decides; X-Frame-Options cannot list origins.
        response.xframe_options_exempt = True
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

    return _progress_by_token(
        request, token, PROGRESS if request.htmx else "orders/track.html", respond
    )


@require_GET
@never_cache
def track(request: HttpRequest, token: str) -> HttpResponse:
    return _progress_by_token(request, token, "orders/track.html")


@require_GET
@never_cache
def embed(request: HttpRequest, token: str) -> HttpResponse:
    """The tracker inside a shop's own page: same live updates, no site chrome."""
    order = _order_by_token(token)
    if order is None:
        return not_found(request)
    transparent = request.GET.get("transparent") == "1"
    response = _render_progress(
        request,
        order,
        "orders/embed.html",
        extra={
            "transparent": transparent,
            "keep_query": "&transparent=1" if transparent else "",
            "embed_origins": order.shop.frame_origins,
        },
    )
    return embeddable(response, order.shop)


@require_GET
@never_cache
def track_progress(request: HttpRequest, token: str) -> HttpResponse:
    """The progress partial alone: polling fallback and resync after a gap."""
    return _progress_by_token(request, token, PROGRESS)


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


@csrf_exempt
@require_POST
def track_cancel(request: HttpRequest, token: str) -> HttpResponse:
    return _care_post(
        request,
        token,
        CustomerCancelForm,
        services.customer_cancel,
        _("Your order is cancelled. The shop has been told."),
    )


@csrf_exempt
@require_POST
def track_confirm(request: HttpRequest, token: str) -> HttpResponse:
    return _care_post(
        request, token, ConfirmForm, services.customer_confirm, _("Thank you for confirming!")
    )


def find_order(number: str, contact: str, shop: Shop | None) -> Order | None:
    """The order with this number whose phone or e-mail matches; None otherwise."""
    candidates = Order.objects.select_related("shop").filter(number=number.strip())
    if shop is not None:
        candidates = candidates.filter(shop=shop)
    contact = contact.strip()
    for order in candidates.order_by("-created_at")[:20]:
        if "@" in contact:
            if order.email and order.email.lower() == contact.lower():
                return order
        elif phones.same(order.phone, contact, phones.region(order.shop.phone)):
            return order
    return None


# Lookup posts carry no credential and change nothing but the attempt counter;
# inside a shop's iframe there is no cookie for a CSRF token to live in.
@csrf_exempt
@require_http_methods(["GET", "POST"])
@never_cache
def lookup(request: HttpRequest, slug: str | None = None, embed: bool = False) -> HttpResponse:
    """Order number + phone or e-mail -> the tracker; rate-limited, no enumeration."""
    shop = None
    if slug is not None:
        shop = Shop.objects.filter(slug=slug).first()
        if shop is None:
            return not_found(request)
    lang = public_language(request, shop)
    status, message = 200, ""
    with translation.override(rules.customer_language(shop, lang)):
        form = LookupForm(request.POST or None)
        if request.method == "POST":
            # One count per client for every lookup form (the site's and each shop's):
            # moving between shops' forms must not multiply the tries.
            key = f"lookup:{request_client_address(request) or 'unknown'}"
            limit, window = settings.TRACKER_LOOKUP_ATTEMPTS, settings.TRACKER_LOOKUP_WINDOW_SECONDS
            wait = ratelimit.take(key, limit, window)
            if wait:
                minutes = max(1, -(-wait // 60))
                status = 429
                message = ngettext(
                    "Too many attempts. Please try again in %(n)d minute.",
                    "Too many attempts. Please try again in %(n)d minutes.",
                    minutes,
                ) % {"n": minutes}
            elif not form.is_valid():
                ratelimit.give_back(key, window)  # not a guess: nothing was looked up
                status, message = 400, _("Please enter the order number and a phone or e-mail.")
            else:
                order = find_order(form.cleaned_data["number"], form.cleaned_data["contact"], shop)
                if order is not None:
                    ratelimit.give_back(key, window)  # only failed tries count
                    name = "orders:embed" if embed else "orders:track"
                    return redirect(
                        f"{reverse(name, args=[order.token])}?lang={lang}", permanent=False
                    )
                # The same words for a wrong pair and an unknown number.
                status = 404
                message = _("We could not find an order with this number and phone or e-mail.")
        response = render(
            request,
            "orders/lookup.html",
            {"form": form, "shop": shop, "embed": embed, "message": message, "lang": lang},
            status=status,
        )
    response["Content-Language"] = lang
    return embeddable(response, shop) if embed else response


@csrf_exempt
@require_http_methods(["GET", "POST"])
@never_cache
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Stop messages about one order: a confirm button (GET), or one click (POST, RFC 8058).

    A GET never unsubscribes: mail scanners open links.
    """
    order = _order_by_token(token)
    if order is None:
        return not_found(request)
    if request.method == "POST":
        order = services.unsubscribe(order=order)
    lang = public_language(request, order.shop)
    with translation.override(rules.customer_language(order.shop, lang)):
        response = render(
            request, "orders/unsubscribe.html", {"order": order, "shop": order.shop, "lang": lang}
        )
    response["Content-Language"] = lang
    return response


@require_GET
def shop_logo(request: HttpRequest, slug: str) -> HttpResponse:
    """The shop's logo. Pages link it with its hash (?v=), so it is cached for good."""
    logo = ShopLogo.objects.filter(shop__slug=slug).only("content_type", "data").first()
    if logo is None:
        return not_found(request)
    response = HttpResponse(bytes(logo.data), content_type=logo.content_type)
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@require_GET
@never_cache
def display(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """The in-store display: full screen, live, no sign-in (its link is the secret)."""
    shop = shop_for_link(slug, token)
    if shop is None:
        return not_found(request)
    lang = public_language(request, shop)
    with translation.override(lang):
        if request.htmx or request.GET.get("partial"):
            response = HttpResponse(render_display(shop, lang))
        else:
            theme = request.GET.get("theme")
            context = {
                "shop": shop,
                "lang": lang,
                "display_html": mark_safe(render_display(shop, lang)),  # noqa: S308 (our own render)
                "poll_seconds": settings.TRACKER_POLL_SECONDS,
                "theme": theme if theme in ("dark", "light") else "",
                "token": token,
            }
            response = render(request, "orders/display.html", context)
    response["Content-Language"] = lang
    response["X-Robots-Tag"] = "noindex"
    return response


@require_GET
def track_qr(request: HttpRequest, token: str, kind: str) -> HttpResponse:
    """The QR code of the tracking link alone (qr.svg, qr.png), for a POS to print."""
    order = _order_by_token(token)
    if order is None:
        return not_found(request)
    if kind == "svg":
        response = HttpResponse(tickets.qr_svg(order), content_type="image/svg+xml")
    else:
        response = HttpResponse(tickets.qr_png(order), content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400"  # the link never changes
    return response
