"""Fixed-window rate limits in the database: shared by every process, no extra server.

An attempt is taken in one conditional UPDATE (count + 1 only while under the
limit), so concurrent requests can never pass the limit between a check and a
count; one that turns out not to count (a lookup that found its order) is given
back.
"""

import math
import time

from django.db import IntegrityError, transaction
from django.db.models import F

from .models import RateCounter


def _window(seconds: int, now: float) -> int:
    return int(now // seconds * seconds)


def _wait(start: int, seconds: int, now: float) -> int:
    return max(1, math.ceil(start + seconds - now))


def take(key: str, limit: int, seconds: int, now: float | None = None) -> int:
    """Take one attempt: 0 when it was under the limit (and is now counted),
    otherwise the seconds until the window ends (and nothing was counted)."""
    now = time.time() if now is None else now
    start = _window(seconds, now)
    counters = RateCounter.objects.filter(key=key, window=start)
    if counters.filter(count__lt=limit).update(count=F("count") + 1):
        return 0
    if limit > 0 and not counters.exists():
        try:
            with transaction.atomic():
                RateCounter.objects.create(key=key, window=start, count=1)
            # Now and then (once per new window), forget windows older than a day.
            RateCounter.objects.filter(window__lt=start - 86400).delete()
            return 0
        except IntegrityError:  # created meanwhile by a concurrent attempt: count there
            if counters.filter(count__lt=limit).update(count=F("count") + 1):
                return 0
    return _wait(start, seconds, now)


def give_back(key: str, seconds: int, now: float | None = None) -> None:
    """Return an attempt taken in this window (it did not count after all)."""
    now = time.time() if now is None else now
    RateCounter.objects.filter(key=key, window=_window(seconds, now), count__gt=0).update(
        count=F("count") - 1
    )
