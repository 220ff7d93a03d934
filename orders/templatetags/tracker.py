"""Times as customers read them, in the shop's time zone (the active one when rendering)."""

from datetime import datetime

from django import template
from django.utils import formats, timezone
from django.utils.translation import gettext as _

register = template.Library()


def _day(moment: datetime) -> str:
    today = timezone.localdate()
    day = timezone.localtime(moment).date()
    if day == today:
        return _("today")
    if (day - today).days == 1:
        return _("tomorrow")
    return formats.date_format(day, "j E")  # "6 марта", "6 March"


@register.simple_tag
def when(moment: datetime | None) -> str:
    """'today 19:40', 'tomorrow 09:00', '6 March 15:00' — 24-hour clock."""
    if moment is None:
        return ""
    return f"{_day(moment)} {timezone.localtime(moment):%H:%M}"


@register.simple_tag
def window(start: datetime | None, end: datetime | None) -> str:
    """A promise: one time, or 'today 15:00–18:00' (the end's day if it differs)."""
    if start is None or end is None:
        return ""
    if start == end:
        return when(end)
    if timezone.localtime(start).date() != timezone.localtime(end).date():
        return f"{when(start)} – {when(end)}"
    return f"{_day(start)} {timezone.localtime(start):%H:%M}–{timezone.localtime(end):%H:%M}"
