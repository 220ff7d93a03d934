"""Printed tickets: the order's QR code, which opens its live tracker.

segno writes the code as SVG (inline in the ticket, sharp at any printer's
resolution) or PNG (for a POS that prints images); nothing is fetched from
anywhere.
"""

import io

import segno
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from . import rules
from .models import Order
from .notifications import tracking_url

WIDTHS = (58, 80)  # receipt printers' paper, mm


def qr_code(order: Order) -> segno.QRCode:
    return segno.make(tracking_url(order), error="m")


def qr_svg(order: Order, scale: int = 4, inline: bool = False) -> str:
    code = qr_code(order)
    if inline:
        return code.svg_inline(scale=scale, border=2, omitsize=True)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=scale, border=2, xmldecl=True)
    return out.getvalue().decode()


def qr_png(order: Order, scale: int = 8) -> bytes:
    out = io.BytesIO()
    qr_code(order).save(out, kind="png", scale=scale, border=2)
    return out.getvalue()


def render_ticket(order: Order, width: int = 80) -> str:
    """The printable ticket (HTML), for 58 or 80 mm paper: the shop, the number, what
    was ordered, the promised or expected time and the QR code of the tracking link."""
    width = width if width in WIDTHS else 80
    with timezone.override(order.shop.timezone):
        context = {
            "order": order,
            "shop": order.shop,
            "width": width,
            "other_width": WIDTHS[0] if width == WIDTHS[1] else WIDTHS[1],
            "eta": rules.estimate(order, order.workflow_stages()),
            "qr": mark_safe(qr_svg(order, inline=True)),  # noqa: S308 (segno's own SVG)
            "url": tracking_url(order),
        }
        return render_to_string("orders/ticket.html", context)
