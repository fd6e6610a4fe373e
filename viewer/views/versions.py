"""The version page: a header (breadcrumb, status, actions) and tabs. Frames is the default tab (built in
viewer/views/frames.py); this module serves Statistics, Metadata and Info.

`version_context(request, version, tab)` is what templates/viewer/version_base.html needs; every tab view calls it.
"""
from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods

from frames import selectors, services
from frames.services import stats as stat_services
from frames.exceptions import ServiceError
from frames.selectors.query import FILTER_KEYS, parse_filter_params
from frames.selectors.sampling import SAMPLE_KEYS, parse_sample
from frames.selectors.roi_stats import CONFIDENCE_KEY
from frames.selectors.stats import DEFAULT_BINS, MAX_BINS

from .. import charts, forms
from ..roles import role_chip
from ..tiles import label_colour
from ..versioning import version_actions
from .datasets import get_version, posted, require_role

TABS = [("frames", "Frames", "viewer:version"), ("stats", "Statistics", "viewer:version-stats"),
        ("metadata", "Metadata", "viewer:version-metadata"), ("info", "Info", "viewer:version-info")]
JOB_HISTORY = 25
VIEW_KEYS = (*FILTER_KEYS, *SAMPLE_KEYS)  # what the Statistics tab takes over from the Frames tab's URL


def version_context(request, version, tab: str) -> dict:
    """Context for version_base.html: the version (with .dataset), its parent, the actions the user's role
    allows, the tabs."""
    return {
        "version": version,
        "dataset": version.dataset,
        "parent": version.parent,
        "tab": tab,
        "tabs": TABS,
        "actions": version_actions(version, owner=selectors.allows(request.user, version, selectors.OWNER)),
        "my_role": role_chip(request.user, version),
    }


# -- Statistics ----------------------------------------------------------------------------------------------


def _filters(request):
    """(filters, sample, error): the frame filter of the page, read as the Frames tab reads it (the advanced
    `filters` JSON, quick `label` picks, the API's `frame_query`/`sources_query`), and its Sample by Property
    (sample_by, sample_n, sample_seed: the statistics then describe the sampled frames), or the error that names
    what is wrong."""
    try:
        filters = parse_filter_params(request.GET)
    except ServiceError as exc:
        return [], None, exc.errors[0]
    try:
        return filters, parse_sample(request.GET), None
    except ServiceError as exc:
        return filters, None, exc.errors[0]


def _label_rows(labels, count_key, total_frames, colours):
    rows = sorted((entry for entry in labels if entry[count_key]), key=lambda e: (-e[count_key], e["label"]))
    peak = max((row[count_key] for row in rows), default=0)
    peak_frames = max((row["frame_count"] for row in rows), default=0)
    return [
        {
            **row,
            "count": row[count_key],
            "bar": charts.pct(row[count_key], peak),
            "frames_bar": charts.pct(row["frame_count"], peak_frames),
            "frames_pct": charts.pct(row["frame_count"], total_frames),
            "colour": colours[row["label"]],
        }
        for row in rows
    ]


@require_GET
def version_stats(request, version_id):
    """Label distributions (ROI labels, frame labels), annotated vs total frames, a metadata key's
    distribution; under the page's frame filter when it has one.

    What a published version stores (its unfiltered label statistics) is drawn with the page; what has to
    be counted (a draft, a filter, a metadata key) is fetched by static/js/stats.js after the first paint.
    """
    version = get_version(request, version_id)
    filters, sample, filter_error = _filters(request)
    bins, bins_error = _bins(request)
    typed = _typed_keys(request.user, version)
    keys = sorted(set(services.meta_keys(user=request.user, version=version)) | set(typed))
    roi_keys = stat_services.roi_meta_keys(user=request.user, version=version)
    key = request.GET.get("key", "").strip()
    filter_params = [(k, v) for k in VIEW_KEYS for v in request.GET.getlist(k) if v]
    query = urlencode(filter_params)
    meta_src = reverse("viewer:version-stats-meta", args=[version.pk])
    context = {
        **version_context(request, version, "stats"),
        "filtered": bool(filters) or sample is not None,
        "sample": sample,
        "has_filter": bool(filters),
        "filter_params": filter_params,
        "filter_error": filter_error or bins_error,
        "meta_keys": keys,
        "roi_keys": roi_keys,
        "key": key or (_default_key(keys)),
        "bins": bins,
        "labels_src": f"{reverse('viewer:version-stats-labels', args=[version.pk])}?{query}",
        "confidence_src": f"{meta_src}?{urlencode([*filter_params, ('key', CONFIDENCE_KEY), ('bins', DEFAULT_BINS)])}",
    }
    if filter_error or bins_error:
        return render(request, "viewer/version_stats.html", context, status=400)
    if selectors.stored_stats(version) is not None and not filters and not sample:
        context.update(_labels_context(request.user, version, filters))
    if key:  # asked for explicitly (the key form): render it with the page; else stats.js loads it
        context.update(_distribution_context(request.user, version, key, filters, bins, typed, sample))
    return render(request, "viewer/version_stats.html", context, status=400 if context.get("key_error") else 200)


@require_GET
def version_stats_labels(request, version_id):
    """The cards and label tables alone (fetched by static/js/stats.js)."""
    version = get_version(request, version_id)
    filters, sample, filter_error = _filters(request)
    if filter_error:
        return _bad_parameter(filter_error)
    try:
        context = {"version": version, **_labels_context(request.user, version, filters, sample, single_flight=True)}
    except services.StatsPending as pending:
        return _pending("labels", pending)
    return render(request, "viewer/version_stats_labels.html", context)


def _pending(what: str, pending: services.StatsPending):
    """202: a worker or another request is counting this right now; stats.js asks again in a moment. A worker's
    job is named and linked, with its progress."""
    context = {"what": what, "job": pending.job, "seconds": pending.seconds}
    return HttpResponse(render_to_string("viewer/partials/stats_pending.html", context), status=202)


def _bad_parameter(error: dict):
    """400 naming the parameter and what is wrong with it (a panel stats.js fetched shows it in place)."""
    message = f"{error.get('field') or 'filters'}: {error.get('message', 'not valid')}"
    html = render_to_string("viewer/version_stats_error.html", {"error": error, "message": message})
    return HttpResponse(html, status=400)


def _file_stem(version) -> str:
    return slugify(f"{version.dataset.name}-{version.name}") or version.pk


def _labels_context(user, version, filters, sample=None, single_flight=False) -> dict:
    stats = services.label_stats(user=user, version=version, filters=filters, single_flight=single_flight, sample=sample)
    colours = {entry["label"]: label_colour(entry["label"]) for entry in stats["labels"]}
    total = stats["frame_count"]
    roi_rows = _label_rows(stats["labels"], "roi_count", total, colours)
    frame_rows = _label_rows(stats["labels"], "frame_label_count", total, colours)
    stem = _file_stem(version)
    return {
        "charts": {
            "roi_share": charts.label_share_chart(roi_rows, chart_id="chart-roi-labels", title="ROI labels", unit="annotations",
                                                  total_frames=total, filename=f"{stem}-roi-labels"),
            "roi_frames": charts.label_frames_chart(roi_rows, chart_id="chart-roi-frames", total_frames=total,
                                                    filename=f"{stem}-frames-per-roi-label"),
            "frame_share": charts.label_share_chart(frame_rows, chart_id="chart-frame-labels", title="Frame labels",
                                                    unit="frame labels", total_frames=total, filename=f"{stem}-frame-labels"),
        },
        "stats": stats,
        "filtered": bool(filters) or sample is not None,
        "annotated_pct": charts.pct(stats["annotated_frame_count"], total),
        "roi_labels": roi_rows,
        "frame_labels": frame_rows,
        "roi_total": sum(entry["roi_count"] for entry in stats["labels"]),
        "frame_label_total": sum(entry["frame_label_count"] for entry in stats["labels"]),
    }


@require_GET
def version_stats_meta(request, version_id):
    """The metadata-key distribution panel alone (fetched by static/js/stats.js)."""
    version = get_version(request, version_id)
    filters, sample, filter_error = _filters(request)
    bins, bins_error = _bins(request)
    key = request.GET.get("key", "").strip()
    if filter_error or bins_error:
        return _bad_parameter(filter_error or bins_error)
    if not key:
        return _bad_parameter({"field": "key", "message": "required: a metadata key such as speed, or rois.confidence"})
    context = {"version": version, "key": key, "bins": bins}
    context.update(_distribution_context(request.user, version, key, filters, bins, _typed_keys(request.user, version), sample))
    if context.get("pending"):
        return _pending(key if key.startswith("rois.") else f"meta.{key}", context["pending"])
    return render(request, "viewer/version_stats_meta.html", context, status=400 if context.get("key_error") else 200)


def _default_key(keys):
    preferred = ("weather", "class", "category", "split", "city", "speed")
    by_name = {k.lower(): k for k in keys}
    return next((by_name[name] for name in preferred if name in by_name), (keys or [""])[0])


def _bins(request) -> tuple[int, dict | None]:
    """The histogram's bins, or the error naming `bins` (a number out of range is refused, not clamped)."""
    raw = request.GET.get("bins", "").strip()
    if not raw:
        return DEFAULT_BINS, None
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_BINS:
        return DEFAULT_BINS, {"field": "bins", "message": f"must be a whole number between 1 and {MAX_BINS}, not {raw!r}"}
    return int(raw), None


def _typed_keys(user, version) -> dict[str, str]:
    """{meta key: type} of the version's typed metadata fields (they are offered as keys even when the sampled
    frames lack them; a categorical_int is counted per value, not bucketed)."""
    return {field["path"]: field["type"] for field in selectors.meta_schema_get(user=user, version=version)["fields"]}


def _distribution_context(user, version, key, filters, bins, typed=None, sample=None) -> dict:
    if not key:
        return {"distribution": None, "key_error": None}
    categorical = (typed or {}).get(key.removeprefix("meta.")) == "categorical_int"
    try:
        dist = services.meta_distribution(user=user, version=version, key=key, filters=filters, bins=bins, single_flight=True,
                                          categorical=categorical, sample=sample)
    except services.StatsPending as pending:
        return {"distribution": None, "key_error": None, "pending": pending}
    except ServiceError as exc:
        return {"distribution": None, "key_error": exc.errors[0]["message"]}
    extra = {}
    shown = {**dist, "key": dist["key"] if dist.get("unit") else f"meta.{dist['key']}"}  # ROI keys say rois.*
    stem = f"{_file_stem(version)}-{slugify(shown['key'].replace('.', '-'))}"
    chart_id = "chart-confidence" if dist["key"] == CONFIDENCE_KEY else "chart-meta"
    if dist["kind"] == "numeric" and dist["buckets"]:
        colours = {s["label"]: label_colour(s["label"]) for s in dist.get("series", ())}
        extra["chart"] = charts.histogram_chart(shown, chart_id=chart_id, colours=colours, filename=stem)
        extra["buckets"] = [
            {**b, "lo_text": charts.fmt_number(b["lo"]), "hi_text": charts.fmt_number(b["hi"])} for b in dist["buckets"]
        ]
    elif dist["kind"] == "categorical":
        peak = max((v["count"] for v in dist["values"]), default=0)
        extra["values"] = [{**v, "bar": charts.pct(v["count"], peak), "pct": charts.pct(v["count"], dist["frames"])} for v in dist["values"]]
        extra["chart"] = charts.categories_chart(shown, extra["values"], chart_id=chart_id, filename=stem)
    return {"distribution": dist, "key_error": None, "min_text": charts.fmt_number(dist.get("min")),
            "max_text": charts.fmt_number(dist.get("max")), **extra}


# -- Metadata -----------------------------------------------------------------------------------------------


def _mask_rows(metadata):
    """The rows of the mask-label table: `mask_labels._all_` as [{value: [r, g, b], labels: [...], hex}]."""
    entries = ((metadata or {}).get("mask_labels") or {}).get("_all_") if isinstance(metadata, dict) else None
    rows = []
    for entry in entries if isinstance(entries, list) else []:
        entry = entry if isinstance(entry, dict) else {}
        value = entry.get("value") if isinstance(entry.get("value"), list) else []
        rgb = [v if isinstance(v, int) else 0 for v in (list(value) + [0, 0, 0])[:3]]
        if len(value) == 1 and isinstance(value[0], int):  # a class-id mask: one grey value
            rgb = [value[0]] * 3
        labels = entry.get("labels") if isinstance(entry.get("labels"), list) else []
        rows.append({"value": value, "rgb": rgb, "labels": labels, "hex": "#%02x%02x%02x" % tuple(max(0, min(255, v)) for v in rgb)})
    return rows


def _row_errors(form_errors_fields) -> dict[int, str]:
    errors = {}
    for field, message in form_errors_fields:
        prefix = "metadata.mask_labels._all_["
        if field.startswith(prefix):
            index = field[len(prefix):].split("]")[0]
            if index.isdigit():
                errors[int(index)] = message
    return errors


@require_http_methods(["GET", "POST"])
def version_metadata(request, version_id):
    """JSON editor of the version's metadata, with a table editor for the mask-label map; read-only once
    published. Saved through services.version_update; its errors land next to the field (and the row)."""
    version = get_version(request, version_id)
    if request.method == "POST":
        require_role(request, version, selectors.OWNER)
    form = forms.MetadataForm(posted(request), initial={"metadata": version.metadata, "etag": version.etag})
    service_errors = []
    if request.method == "POST" and form.is_valid():
        try:
            services.version_update(user=request.user, version=version, metadata=form.cleaned_data["metadata"], if_match=form.if_match())
        except ServiceError as exc:
            service_errors = [(e.get("field") or "", e.get("message", "")) for e in exc.errors]
            form.add_service_errors(exc)
        else:
            messages.success(request, "Metadata saved.")
            return redirect(reverse("viewer:version-metadata", args=[version.pk]))
    shown = version.metadata
    if request.method == "POST":
        try:
            shown = json.loads(request.POST.get("metadata") or "{}")
        except json.JSONDecodeError:
            shown = version.metadata
    rows = _mask_rows(shown)
    for index, message in _row_errors(service_errors).items():
        if index < len(rows):
            rows[index]["error"] = message
    context = {
        **version_context(request, version, "metadata"),
        "form": form,
        "readonly": version.is_published or not selectors.allows(request.user, version, selectors.OWNER),
        "mask_rows": rows,
        "other_masks": sorted(k for k in ((shown or {}).get("mask_labels") or {}) if k != "_all_") if isinstance(shown, dict) and isinstance(shown.get("mask_labels"), dict) else [],
        "meta_schema": _schema_context(request.user, version),
    }
    return render(request, "viewer/version_metadata.html", context, status=400 if form.errors else 200)


def _schema_context(user, version) -> dict:
    """The typed metadata fields for the Metadata tab, and the ancestor they come from when inherited."""
    schema = selectors.meta_schema_get(user=user, version=version)
    source = schema["inherited_from"]
    inherited = next((v for v in selectors.version_lineage(user=user, version=version) if v.pk == source), None) if source else None
    rows = [{**field, "default_text": json.dumps(field.get("default")), "values_text": ", ".join(json.dumps(v) for v in field.get("values") or [])}
            for field in schema["fields"]]
    return {"fields": rows, "inherited_from": inherited}


# -- Info -------------------------------------------------------------------------------------------------------


@require_GET
def version_info(request, version_id):
    version = get_version(request, version_id)
    context = {
        **version_context(request, version, "info"),
        "lineage": selectors.version_lineage(user=request.user, version=version),
        "children": list(version.children.order_by("seq")),
        "stats": selectors.stored_stats(version),
        "jobs": list(selectors.jobs_list(user=request.user, version=version)[:JOB_HISTORY]),
    }
    return render(request, "viewer/version_info.html", context)
