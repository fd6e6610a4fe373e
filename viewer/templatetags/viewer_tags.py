from django import template
from django.utils.http import urlencode

from frames.selectors.query import FILTER_KEYS
from frames.selectors.sampling import SAMPLE_KEYS

from .. import formats, render
from ..jsonfmt import compact_json

register = template.Library()


register.filter("intcomma_plain", formats.intcomma_plain)
register.filter("ago", formats.ago)


@register.simple_tag(takes_context=True)
def filter_querystring(context):
    """`?label=car&frame_query=...` of the current request's frame filter and Sample by Property (empty when
    none), for tab links: the Statistics tab describes the view the Frames tab shows."""
    request = context.get("request")
    if request is None:
        return ""
    pairs = [(key, value) for key in (*FILTER_KEYS, *SAMPLE_KEYS) for value in request.GET.getlist(key) if value]
    return f"?{urlencode(pairs)}" if pairs else ""


@register.filter
def chips_html(chips):
    """Label chips drawn as on the Frames tab's tiles (one markup, in templates/jinja2/tiles.jinja)."""
    return render.chips_html(chips)


@register.filter
def pretty_json(value):
    return compact_json(value)
