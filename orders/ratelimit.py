"""Fixed-window rate limits in the database: shared by every process, no extra server."""

import math
import time

from django.db.models import F

from .models import RateCounter


def _window(seconds: int, now: float) -> int:
    return int(now // seconds * seconds)


def retry_after(key: str, limit: int, seconds: int, now: float | None = None) -> int:
    """Seconds until `key` may try again, or 0 when it is under its limit."""
    now = time.time() if now is None else now
    start = _window(seconds, now)
    counter = RateCounter.objects.filter(key=key, window=start).first()
    if counter is None or counter.count < limit:
        return 0
    return max(1, math.ceil(start + seconds - now))


def hit(key: str, seconds: int, now: float | None = None) -> int:
    """Count one attempt; returns the count in the current window."""
    now = time.time() if now is None else now
    start = _window(seconds, now)
    counter, created = RateCounter.objects.get_or_create(key=key, window=start)
    RateCounter.objects.filter(pk=counter.pk).update(count=F("count") + 1)
    if created:
        # Now and then (once per new window), forget windows older than a day.
        RateCounter.objects.filter(window__lt=start - 86400).delete()
    return RateCounter.objects.values_list("count", flat=True).get(pk=counter.pk)


def limited(key: str, limit: int, seconds: int, now: float | None = None) -> int:
    """Count an attempt and return 0, or return the wait when the limit is already used up."""
    wait = retry_after(key, limit, seconds, now)
    if wait:
        return wait
    hit(key, seconds, now)
    return 0
