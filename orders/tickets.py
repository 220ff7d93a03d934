"""Printed tickets: the order's QR code, which opens its live tracker.

segno writes the code as SVG (inline in the ticket, sharp at any printer's
resolution) or PNG (for a POS that prints images); nothing is fetched from
anywhere.
"""

import io

import segno

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
