"""Charts of the Statistics tab: the numbers each chart shows, as specs that static/js/stats.js draws with
Chart.js (vendored: axes, legends, tooltips and PNG export for free) and saves as CSV; and the table bars'
percentages and number formats the server renders."""
from __future__ import annotations


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


# -- Chart specs for static/js/stats.js (Chart.js, vendored) ------------------------------------------------------
# Each spec carries the numbers twice over: what Chart.js draws, and the CSV the "CSV" button saves, built from the
# same rows so the file always says what the chart shows.

OTHER_COLOUR = "#9aa0a6"


def label_share_chart(rows: list[dict], *, chart_id: str, title: str, unit: str, total_frames: int, filename: str) -> dict:
    """A doughnut of the labels' shares of `unit` (annotations or frame labels), legend with count and %; the CSV
    has every label's annotations, frames and both percentages."""
    total = sum(row["count"] for row in rows) or 1
    return {
        "id": chart_id, "type": "doughnut", "title": title, "filename": filename,
        "labels": [row["label"] for row in rows],
        "datasets": [{"label": unit, "data": [row["count"] for row in rows], "colors": [row["colour"] for row in rows]}],
        "percent": [pct(row["count"], total) for row in rows],
        "csv": {
            "header": ["label", unit, f"% of {unit}", "frames", "% of frames"],
            "rows": [[row["label"], row["count"], pct(row["count"], total), row["frame_count"], pct(row["frame_count"], total_frames)] for row in rows],
        },
    }


def label_frames_chart(rows: list[dict], *, chart_id: str, total_frames: int, filename: str) -> dict:
    """Horizontal bars: frames carrying each label, as a share of the frames (under the filter)."""
    return {
        "id": chart_id, "type": "hbar", "title": "Frames per label", "filename": filename,
        "x_title": f"frames (of {total_frames:,})", "y_title": "label",
        "labels": [row["label"] for row in rows],
        "datasets": [{"label": "frames", "data": [row["frame_count"] for row in rows], "colors": [row["colour"] for row in rows]}],
        "percent": [pct(row["frame_count"], total_frames) for row in rows],
        "csv": {"header": ["label", "frames", "% of frames"],
                "rows": [[row["label"], row["frame_count"], pct(row["frame_count"], total_frames)] for row in rows]},
    }


def histogram_chart(dist: dict, *, chart_id: str, colours: dict[str, str], filename: str) -> dict:
    """A histogram (one bar per bucket; stacked by label when the answer is split by label, as ROI confidence
    is); the CSV has each bucket's edges and counts (per label when split)."""
    buckets, unit = dist["buckets"], dist.get("unit", "frames")
    edges = [bucket_text(b, dist.get("integral", False)) for b in buckets]
    series = dist.get("series") or [{"label": unit, "counts": [b["count"] for b in buckets]}]
    split = bool(dist.get("series"))
    datasets = [{"label": s["label"], "data": s["counts"],
                 "colors": [colours.get(s["label"], OTHER_COLOUR) if split else "#3b82f6"]} for s in series]
    header = ["from", "to", *([s["label"] for s in series] if split else []), unit]
    rows = [[b["lo"], b["hi"], *([s["counts"][i] for s in series] if split else []), b["count"]] for i, b in enumerate(buckets)]
    return {
        "id": chart_id, "type": "histogram", "title": dist["key"], "filename": filename, "stacked": split,
        "x_title": dist["key"], "y_title": unit, "labels": edges, "datasets": datasets,
        "csv": {"header": header, "rows": rows},
    }


def categories_chart(dist: dict, values: list[dict], *, chart_id: str, filename: str) -> dict:
    """Horizontal bars of a categorical key's commonest values (and "other values")."""
    rows = [[v["value"], v["count"], pct(v["count"], dist["frames"])] for v in values]
    if dist.get("other"):
        rows.append(["(other values)", dist["other"], pct(dist["other"], dist["frames"])])
    return {
        "id": chart_id, "type": "hbar", "title": dist["key"], "filename": filename,
        "x_title": f"frames (of {dist['frames']:,})", "y_title": dist["key"],
        "labels": [row[0] for row in rows],
        "datasets": [{"label": "frames", "data": [row[1] for row in rows], "colors": ["#3b82f6"]}],
        "percent": [row[2] for row in rows],
        "csv": {"header": ["value", "frames", "% of frames"], "rows": rows},
    }


def bucket_text(bucket: dict, integral: bool) -> str:
    lo, hi = fmt_number(bucket["lo"]), fmt_number(bucket["hi"])
    return lo if lo == hi else f"{lo}–{hi}"
