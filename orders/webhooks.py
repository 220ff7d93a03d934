"""Signed webhooks: every order change, POSTed as JSON to each of the shop's endpoints.

Headers (docs/API.md has the receiver's side):
    Tracker-Event: order.advanced
    Tracker-Delivery: 123             (the same on every retry of this delivery)
    Tracker-Timestamp: 1767225600     (Unix seconds, when this attempt was sent)
    Tracker-Signature: v1=<hex>       (HMAC-SHA256 of "<timestamp>.<body>" with the secret)
"""

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import NoReturn

from django.core.serializers.json import DjangoJSONEncoder

from . import destinations
from .models import Delivery, Order, OrderEvent, WebhookEndpoint
from .representation import order_payload

TIMEOUT_SECONDS = 10
USER_AGENT = "Tracker-Webhooks/1"


def event_type(event: OrderEvent) -> str:
    return f"order.{event.kind}"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def enqueue_webhooks(order: Order, event: OrderEvent) -> list[Delivery]:
    """One delivery per active endpoint, with the order as it is after this change.

    `order.has_webhooks`, when the order was read with it (the board's taps): False
    means the shop had no active endpoint then, and nothing more is asked.
    """
    if not getattr(order, "has_webhooks", True):
        return []
    endpoints = list(WebhookEndpoint.objects.filter(shop_id=order.shop_id, active=True))
    if not endpoints:
        return []
    body = json.dumps(
        {
            "id": f"evt_{event.pk}",
            "type": event_type(event),
            "created_at": event.created_at.isoformat(),
            "shop": order.shop.slug,
            "order": order_payload(order),
        },
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
    )
    return [
        Delivery.objects.create(
            shop_id=order.shop_id,
            order=order,
            event=event,
            channel=Delivery.Channel.WEBHOOK,
            endpoint=endpoint,
            dedupe_key=f"{event.pk}:webhook:{endpoint.pk}",
            recipient=endpoint.url,
            subject=event_type(event),
            body=body,
        )
        for endpoint in endpoints
    ]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would resend (or silently drop) the signed body elsewhere: fail instead.
    def redirect_request(self, req, fp, code, msg, headers, newurl) -> NoReturn:  # noqa: ANN001
        raise urllib.error.HTTPError(req.full_url, code, f"redirect to {newurl}", headers, fp)


# Only public addresses (orders.destinations), checked on the connected socket.
_opener = urllib.request.build_opener(_NoRedirects, *destinations.handlers())


def send_webhook(delivery: Delivery) -> None:
    """One attempt; raises on anything but a 2xx answer."""
    destinations.check_url(delivery.recipient)
    body = delivery.body.encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 (http/https only: URLField)
        delivery.recipient,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Tracker-Event": delivery.subject,
            "Tracker-Delivery": str(delivery.pk),
            "Tracker-Timestamp": timestamp,
            "Tracker-Signature": sign(delivery.endpoint.secret, timestamp, body),
        },
    )
    with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
        response.read(65536)
