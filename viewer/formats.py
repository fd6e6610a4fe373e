"""Numbers and times as the pages write them (shared by the Django template tags and the Jinja2 tile markup)."""
from django.utils import timezone
from django.utils.timesince import timesince


def intcomma_plain(value):
    """1234567 -> 1,234,567 (without loading django.contrib.humanize)."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return value


def ago(value):
    """'a moment ago', '5 minutes ago', '2 days ago': the largest unit only, as dense tables want."""
    if not value:
        return "—"
    if (timezone.now() - value).total_seconds() < 60:
        return "a moment ago"
    return f"{timesince(value).split(',')[0]} ago"
