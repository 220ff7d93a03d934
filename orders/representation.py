"""An order as the shop's own systems see it: the API's answers and webhook bodies.

Customer-visible history only: staff-only notes and customers' problem reports
never appear here (the API and webhooks may be wired into public places).
"""

from django.urls import reverse
from django.utils import translation

from . import rules
from .models import FORWARD_KINDS, Order, OrderEvent
from .notifications import absolute, tracking_url


def _iso(moment: object) -> str | None:
    return moment.isoformat() if moment is not None else None


def order_payload(order: Order, history: bool = True) -> dict:
    stages = list(order.workflow.stages.all())
    position = rules.stage_number(order, stages)
    with translation.override(order.shop.language):
        stage_name = order.stage.name
    data = {
        "number": order.number,
        "token": order.token,
        "customer_name": order.customer_name,
        "summary": order.summary,
        "workflow": order.workflow.key,
        "state": order.state,
        "version": order.version,
        "stage": {
            "position": position,
            "count": len(stages),
            "name": stage_name,
            "name_ru": order.stage.name_ru,
            "name_en": order.stage.name_en,
        },
        "eta": _iso(rules.estimate(order, stages)),
        "promise": (
            {"start": _iso(order.promise_start), "end": _iso(order.promise_end)}
            if order.promise_end
            else None
        ),
        "delay": (
            {
                "reason": order.delay_reason,
                "action": order.delay_action,
                "until": _iso(order.delay_until),
            }
            if order.is_delayed
            else None
        ),
        "cancel_reason": order.cancel_reason or None,
        "tracking_url": tracking_url(order),
        "embed_url": absolute(reverse("orders:embed", args=[order.token])),
        "qr_svg_url": absolute(reverse("orders:track_qr", args=[order.token, "svg"])),
        "qr_png_url": absolute(reverse("orders:track_qr", args=[order.token, "png"])),
        "created_at": _iso(order.created_at),
        "updated_at": _iso(order.updated_at),
    }
    if history:
        data["history"] = [
            public_event(e) for e in order.events.filter(public=True).select_related("stage")
        ]
    return data


def public_event(event: OrderEvent) -> dict:
    return {
        "version": event.version,
        "kind": event.kind,
        "stage": event.stage.name_en or event.stage.name_ru,
        "at": _iso(event.created_at),
        # Callers pass public events only; their text is what the customer reads too.
        "text": "" if event.kind in FORWARD_KINDS else event.text,
    }
