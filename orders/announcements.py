"""Shop announcements: posted by the staff, shown to every customer of the shop live,
gone by themselves at their end time.

A notice lives on the shop (Shop.notice, notice_until, notice_at), and is its own
fragment (#announcement, stamped with when it changed), not part of an order's
progress: it changes no order, so no order's version moves.
Posting one tells every open order's watchers and the shop's displays; a page hides
it at its end time by its own clock, and no render shows it after.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import rules
from .live import board_group, order_group, publish
from .models import Order, Shop

log = logging.getLogger(__name__)
LONGEST = timedelta(days=7)


class Refused(ValueError):
    pass


def current(shop: Shop) -> str:
    """The shop's notice while it runs; empty otherwise."""
    if shop.notice and shop.notice_until and shop.notice_until > timezone.now():
        return shop.notice
    return ""


def render(shop: Shop, lang: str) -> str:
    """The #announcement fragment: the current notice, or an empty placeholder."""
    stamp = int((shop.notice_at or shop.created_at).timestamp() * 1000)
    with translation.override(lang), timezone.override(shop.timezone):
        return render_to_string(
            "orders/_announcement.html", {"shop": shop, "notice": current(shop), "stamp": stamp}
        ).strip()


def renders_for(wanted: list[tuple[int, str]]) -> dict[tuple[int, str], str | None]:
    """The fragments of several (shop pk, language) at once, for the sockets."""
    shops = Shop.objects.in_bulk({pk for pk, _ in wanted})
    return {(pk, lang): render(shops[pk], lang) if pk in shops else None for pk, lang in wanted}


def post(shop: Shop, text: str, ends_at: datetime) -> None:
    """Show `text` to every customer of the shop until `ends_at` (it replaces the
    notice before)."""
    text = " ".join(text.split())
    if not text or len(text) > 200:
        raise Refused(_("Write the notice in 1 to 200 characters."))
    now = timezone.now()
    if ends_at <= now:
        raise Refused(_("The end time has passed; choose a later one."))
    if ends_at > now + LONGEST:
        raise Refused(_("A notice may run for a week at most."))
    _set(shop, text, ends_at)


def end(shop: Shop) -> None:
    _set(shop, "", None)


def _set(shop: Shop, text: str, ends_at: datetime | None) -> None:
    with transaction.atomic():
        shop.notice, shop.notice_until, shop.notice_at = text, ends_at, timezone.now()
        shop.save(update_fields=["notice", "notice_until", "notice_at"])
        transaction.on_commit(lambda: tell(shop))


def tell(shop: Shop) -> None:
    """The shop's open trackers and displays learn of the change (each renders it)."""
    tokens = (
        Order.objects.filter(shop=shop)
        .filter(rules.may_be_watched())
        .values_list("token", flat=True)
    )
    notice = {"type": "shop.announced", "shop": shop.pk}
    groups = [order_group(token) for token in tokens] + [board_group(shop.pk)]
    try:
        publish([(group, notice) for group in groups])
    except Exception:  # pages still show it when loaded; the change is committed
        log.exception("could not announce to shop %s", shop.pk)
