from django import template
from django.utils.http import urlencode

register = template.Library()

FILTER_PARAMS = ("filters", "label", "frame_query", "sources_query")


@register.simple_tag(takes_context=True)
def filter_querystring(context):
    """`?label=car&frame_query=...` of the current request's frame filter (empty when none), for tab links."""
    request = context.get("request")
    if request is None:
        return ""
    pairs = [(key, value) for key in FILTER_PARAMS for value in request.GET.getlist(key) if value]
    return f"?{urlencode(pairs)}" if pairs else ""


@register.filter
def intcomma_plain(value):
    """1234567 -> 1,234,567 (without loading django.contrib.humanize)."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return value
