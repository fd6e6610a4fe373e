"""The per-frame markup of the Frames tab, rendered with Jinja2 (templates/jinja2/tiles.jinja).

A Frames page repeats the same tile 100-500 times. Django's template engine spent about 60% of the tab's server
time on those tiles (two includes each); Jinja2 compiles templates to Python functions and renders the same
markup several times faster. Pages themselves stay Django templates and insert the result as safe HTML.
"""
from __future__ import annotations

from functools import lru_cache

from django.template import engines
from django.utils.safestring import SafeString, mark_safe
from jinja2 import Environment, Template

from viewer.formats import intcomma_plain

TEMPLATE = "tiles.jinja"
KINDS = ("grid", "contexts", "table")


def environment(**options) -> Environment:
    """The Jinja2 environment of settings.TEMPLATES, with the filters the tile markup uses."""
    env = Environment(**options)
    env.filters["intcomma_plain"] = intcomma_plain
    env.filters["pluralize"] = lambda count, suffix="s": "" if count == 1 else suffix
    return env


@lru_cache(maxsize=1)
def _template() -> Template:
    return engines["jinja2"].env.get_template(TEMPLATE)


def items_html(kind: str, items: list[dict]) -> SafeString:
    """Grid tiles (`grid`), Group-by-URL tiles (`contexts`) or table rows (`table`) of viewer.tiles items."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    return mark_safe(_template().render(kind=kind, items=items))


def chips_html(chips: list[dict]) -> SafeString:
    """Label chips (viewer.tiles.label_chips) as the tiles show them, for the Django-rendered pages."""
    return mark_safe(_template().module.chips(chips))


# What static/js/viewer/rois.js reads to draw an ROI: the rest (meta, masks, ...) stays out of the page.
DRAWN_KEYS = ("labels", "label", "poly", "shape", "sources", "confidence")


def tile_rois(frame: dict) -> dict:
    """The ROIs a tile draws over its preview (static/js/frames.js with the viewer's draw.js), sent with the
    page as one JSON island so no tile asks for them: the frame's source ids and its ROIs that have a shape,
    coordinates rounded to a tenth of a source pixel. Frame labels (no shape) are the tile's chips instead."""
    sources = frame.get("sources") or []
    rois = [
        {key: _rounded(roi[key]) if key in ("poly", "shape") else roi[key] for key in DRAWN_KEYS if key in roi}
        for roi in frame.get("rois") or []
        if isinstance(roi, dict) and (roi.get("poly") or roi.get("shape"))
    ]
    return {"sources": [str(s.get("id", "default")) if isinstance(s, dict) else "default" for s in sources], "rois": rois}


def _rounded(value):
    if isinstance(value, float):
        return round(value, 1)
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value
