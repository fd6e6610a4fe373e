"""Chart geometry for the Statistics tab, computed on the server so charts paint with the page (no chart
library, no layout shift): horizontal bars as percentages, a histogram as SVG rectangles with axis ticks."""
from __future__ import annotations

import math


def pct(value, top) -> float:
    return round(100.0 * value / top, 2) if top else 0.0


def fmt_number(value) -> str:
    if value is None:
        return "—"
    if float(value).is_integer():
        return f"{int(value):,}"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 1:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def histogram(buckets: list[dict], *, integral: bool, width: int = 720, height: int = 220) -> dict:
    """SVG geometry: bars, y grid lines with counts, x ticks with bucket edges (at most ~8 labels)."""
    left, right, top, bottom = 44, 8, 8, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((b["count"] for b in buckets), default=0) or 1
    step = _nice_step(peak / 4)
    y_max = step * math.ceil(peak / step)
    n = len(buckets) or 1
    slot = plot_w / n
    gap = min(2.0, slot * 0.15)
    bars, ticks = [], []
    every = max(1, math.ceil(n / 8))
    for i, bucket in enumerate(buckets):
        h = plot_h * bucket["count"] / y_max
        lo, hi = fmt_number(bucket["lo"]), fmt_number(bucket["hi"])
        span = lo if lo == hi else (f"{lo}–{hi}" if integral else f"{lo} – {hi}")
        bars.append({"x": round(left + i * slot + gap / 2, 2), "y": round(top + plot_h - h, 2), "w": round(max(slot - gap, 1), 2),
                     "h": round(h, 2), "count": bucket["count"], "range": span})
        if i % every == 0:
            ticks.append({"x": round(left + i * slot + slot / 2, 2), "text": lo})
    grid = [{"y": round(top + plot_h - plot_h * v / y_max, 2), "text": f"{v:,}"} for v in range(0, int(y_max) + 1, int(step))]
    return {"width": width, "height": height, "bars": bars, "ticks": ticks, "grid": grid, "left": left,
            "right": width - right, "base": top + plot_h, "tick_y": top + plot_h + 14}


def _nice_step(raw: float) -> int:
    if raw <= 1:
        return 1
    exponent = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * exponent:
            return max(1, int(factor * exponent))
    return int(10 * exponent)
