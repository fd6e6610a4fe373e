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


@register.filter
def chips_html(chips):
    """Label chips drawn as on the Frames tab's tiles (one markup, in templates/jinja2/tiles.jinja)."""
    from ..render import chips_html as render_chips  # viewer.render imports this module

    return render_chips(chips)


@register.filter
def pretty_json(value):
    from ..jsonfmt import compact_json

    return compact_json(value)


@register.filter
def ago(value):
    """'a moment ago', '5 minutes ago', '2 days ago': the largest unit only, as dense tables want."""
    from django.utils import timezone
    from django.utils.timesince import timesince

    if not value:
        return "—"
    if (timezone.now() - value).total_seconds() < 60:
        return "a moment ago"
    return f"{timesince(value).split(',')[0]} ago"
