"""The outbox worker: delivers queued e-mails, SMS and webhooks in the background.

Deliveries are rows written in the same transaction as the change (so none is
lost when a process dies), claimed with a short lease (a crashed worker's claim
runs out and another picks the row up), retried with exponential backoff, and
given up only after TRACKER_DELIVERY_GIVE_UP_HOURS with the error logged and
visible in the admin. Run by `manage.py deliver` (started by `make run` and
`python -m tracker.serve`); several workers may run at once.
"""

import logging
import random
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import close_old_connections, connections
from django.db.models import Q, QuerySet
from django.utils import timezone

from tracker.publicurl import public_base

from . import sms
from .models import Delivery
from .notifications import unsubscribe_url
from .webhooks import send_webhook

log = logging.getLogger("tracker.outbox")

LEASE = timedelta(minutes=2)
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … capped at an hour, with jitter against thundering herds."""
    seconds = min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), MAX_RETRY_SECONDS)
    return timedelta(seconds=seconds * random.uniform(0.9, 1.1))


def send_email(delivery: Delivery) -> None:
    shop = delivery.order.shop
    unsubscribe = unsubscribe_url(delivery.order)
    EmailMessage(
        subject=delivery.subject,
        body=delivery.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.recipient],
        reply_to=[shop.email] if shop.email else None,
        headers={
            # One-click unsubscribe (RFC 8058) for mail clients that offer it.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            # The same on every attempt: if a worker dies after the server took the
            # message but before the row says so, the retry is the same message, and
            # mail systems that see an ID twice keep one.
            "Message-ID": message_id(delivery),
        },
    ).send(fail_silently=False)


def message_id(delivery: Delivery) -> str:
    domain = urlsplit(public_base()).hostname or "tracker.invalid"
    return f"<delivery-{delivery.pk}.{delivery.created_at:%Y%m%d}@{domain}>"


def send_sms(delivery: Delivery) -> None:
    sms.get_backend().send(delivery.recipient, delivery.body)


SENDERS = {
    Delivery.Channel.EMAIL: send_email,
    Delivery.Channel.SMS: send_sms,
    Delivery.Channel.WEBHOOK: send_webhook,
}


def due(now: datetime) -> QuerySet[Delivery]:
    return Delivery.objects.filter(
        Q(locked_until__isnull=True) | Q(locked_until__lte=now),
        status=Delivery.Status.PENDING,
        next_attempt_at__lte=now,
    )


def _claim(pk: int, now: datetime) -> bool:
    # Compare-and-set: of several workers, exactly one updates the row. The start of
    # the attempt is recorded before anything is sent (see Delivery.started_at).
    return due(now).filter(pk=pk).update(locked_until=now + LEASE, started_at=now) == 1


def _skip_reason(delivery: Delivery) -> str:
    if delivery.channel == Delivery.Channel.WEBHOOK:
        return "" if delivery.endpoint.active else "endpoint deactivated"
    return "customer unsubscribed" if delivery.order.unsubscribed_at else ""


def attempt(delivery: Delivery, now: datetime) -> None:
    reason = _skip_reason(delivery)
    if reason:
        delivery.status, delivery.last_error = Delivery.Status.SKIPPED, reason
    else:
        delivery.attempts += 1
        try:
            SENDERS[delivery.channel](delivery)
        except Exception as error:
            delivery.last_error = f"{type(error).__name__}: {error}"[:2000]
            give_up = delivery.created_at + timedelta(hours=settings.TRACKER_DELIVERY_GIVE_UP_HOURS)
            if now >= give_up:
                delivery.status = Delivery.Status.FAILED
                log.error(
                    "delivery %s (%s) failed for good after %s attempts: %s",
                    delivery.pk,
                    delivery.channel,
                    delivery.attempts,
                    delivery.last_error,
                )
            else:
                delivery.next_attempt_at = now + retry_delay(delivery.attempts)
                log.warning(
                    "delivery %s (%s) attempt %s failed, retrying at %s: %s",
                    delivery.pk,
                    delivery.channel,
                    delivery.attempts,
                    delivery.next_attempt_at.isoformat(),
                    delivery.last_error,
                )
        else:
            delivery.status, delivery.sent_at, delivery.last_error = (
                Delivery.Status.SENT,
                timezone.now(),
                "",
            )
    delivery.locked_until = delivery.started_at = None
    delivery.save(
        update_fields=[
            "status",
            "attempts",
            "next_attempt_at",
            "locked_until",
            "started_at",
            "last_error",
            "sent_at",
        ]
    )


def _destination(channel: str, endpoint_id: int | None) -> tuple:
    # Each webhook endpoint is a destination of its own; all e-mail goes through one
    # SMTP server, all SMS through one provider.
    return (channel, endpoint_id if channel == Delivery.Channel.WEBHOOK else None)


def _attempt_in_turn(pks: list[int], now: datetime, cut_off: set[int]) -> None:
    for pk in pks:
        delivery = Delivery.objects.select_related("order__shop", "endpoint").get(pk=pk)
        if pk in cut_off:
            # The previous attempt started and never recorded its outcome: it counts,
            # and its message may have arrived (receivers drop the repeat by its
            # Message-ID or Tracker-Delivery).
            delivery.attempts += 1
            log.warning(
                "delivery %s (%s): the previous attempt was cut off; sending again",
                pk,
                delivery.channel,
            )
        attempt(delivery, now)


def _attempt_in_thread(pks: list[int], now: datetime, cut_off: set[int]) -> None:
    try:
        _attempt_in_turn(pks, now, cut_off)
    finally:
        connections.close_all()  # this thread's own connections (back to the pool)


def deliver_due(now: datetime | None = None, limit: int = 100) -> int:
    """Attempt every delivery due at `now`; returns how many were attempted.

    Destinations are served side by side, each one's deliveries in turn: a
    destination that hangs (every call has a timeout) holds up only itself, never
    another shop's webhooks or the e-mails.
    """
    now = now or timezone.now()
    candidates = (
        due(now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", "channel", "endpoint_id", "started_at")[:limit]
    )
    queues: dict[tuple, list[int]] = defaultdict(list)
    cut_off: set[int] = set()
    for pk, channel, endpoint_id, started_at in candidates:
        if _claim(pk, now):
            queues[_destination(channel, endpoint_id)].append(pk)
            if started_at is not None:
                cut_off.add(pk)
    if len(queues) <= 1:  # one destination: no thread needed
        for pks in queues.values():
            _attempt_in_turn(pks, now, cut_off)
    else:
        workers = min(len(queues), settings.TRACKER_DELIVERY_CONCURRENCY)
        with ThreadPoolExecutor(workers, thread_name_prefix="deliver") as pool:
            list(pool.map(lambda pks: _attempt_in_thread(pks, now, cut_off), queues.values()))
    return sum(len(pks) for pks in queues.values())


def run(stop: threading.Event, poll_seconds: float = 1.0) -> None:
    """Deliver until `stop` is set; idle polls are one indexed query."""
    while not stop.is_set():
        close_old_connections()  # drop a connection broken by a database restart
        try:
            busy = deliver_due()
        except Exception:
            log.exception("outbox worker: database unavailable; trying again")
            busy = 0
        if not busy:
            stop.wait(poll_seconds)
