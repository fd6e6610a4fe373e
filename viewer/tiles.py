"""Frames shaped for templates: grid tiles, label chips in stable colours and film-strip frames."""
from __future__ import annotations

import json
from functools import lru_cache
from urllib.parse import quote

from django.urls import reverse

from frames.schema import is_frame_label
from viewer.browse import BrowseState
from viewer.media import source_image, tiff_page

# Distinct, saturated colours that read on white chips and on photos alike.
LABEL_PALETTE = (
    "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#17becf", "#f032e6", "#9acd32", "#d62728", "#1f77b4",
    "#ff9f1c", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#469990", "#bcbd22", "#000075", "#9a6324", "#008080",
)

# Found by trying salts: under this one the demo's and COCO's common labels (car, person, traffic sign, road,
# sky, building, ...) and the frame labels (sunny, rain, night, ...) fall on different, distinct palette entries.
LABEL_SALT = "14226:"
FNV_OFFSET, FNV_PRIME = 0x811C9DC5, 0x01000193


def label_colour(label: str) -> str:
    """A stable colour per label (the same in tiles, tables, statistics, the frame page and the film strip).

    32-bit FNV-1a over the UTF-8 bytes of the salted label, modulo the palette: static/js/viewer/colours.js
    computes the same (tests/test_viewer_module.py checks they agree), so chips drawn here match ROIs drawn there.
    """
    digest = FNV_OFFSET
    for byte in _utf8_as_browsers_encode(LABEL_SALT + label):
        digest = ((digest ^ byte) * FNV_PRIME) & 0xFFFFFFFF
    return LABEL_PALETTE[digest % len(LABEL_PALETTE)]


def _utf8_as_browsers_encode(text: str) -> bytes:
    """UTF-8 as the browser's TextEncoder makes it: a surrogate pair is one character, a lone surrogate
    (possible in JSON, "\\ud800") becomes U+FFFD instead of failing."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace").encode()


def _labels(roi: dict) -> list[str]:
    labels = roi.get("labels", roi.get("label")) or []
    return [labels] if isinstance(labels, str) else [str(label) for label in labels]


def label_chips(rois: list[dict]) -> list[dict]:
    """One chip per distinct label: frame labels (no poly, shape or mask) apart from object labels, with counts."""
    chips: dict[tuple[str, bool], dict] = {}
    for roi in rois or []:
        frame_label = is_frame_label(roi)
        for label in _labels(roi):
            chip = chips.setdefault((label, frame_label), {"label": label, "frame_label": frame_label, "count": 0, "colour": label_colour(label)})
            chip["count"] += 1
    return sorted(chips.values(), key=lambda c: (not c["frame_label"], c["label"]))


def chosen_sources(sources: list[dict], choice: str) -> list[dict]:
    if not sources:
        return []
    if choice == "all":
        return sources
    if choice:
        named = [s for s in sources if s.get("id") == choice]
        if named:
            return named
    return sources[:1]


def _meta_value(meta, key: str):
    value = meta
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list, bool)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def frame_url(version_id: str, frame_id: str) -> str:
    """reverse("viewer:frame", ...) for many frames: the prefix is reversed once per version (a page has up
    to 500 tiles), the id quoted as reverse() quotes it."""
    return _frame_url_prefix(version_id) + quote(frame_id, safe=_URL_SAFE)


_URL_SAFE = "!$&'()*+,;=/~:@"  # what django.urls.reverse leaves unquoted (RFC 3986 sub-delims, /~:@)


@lru_cache(maxsize=256)
def _frame_url_prefix(version_id: str) -> str:
    return reverse("viewer:frame", args=[version_id, "-"])[:-1]


def frame_page_url(version, frame_id: str, *, deleted: bool, state: BrowseState, link_query: str) -> str:
    """The page of a frame the browser lists, with the view's query; a frame this version deleted (listed under
    the `changed` filter) is no longer in it, so its page is the parent version's, under the same filter and
    sort minus `changed` (which would mean the parent's own changes there)."""
    if deleted:
        return frame_url(version.parent_id, frame_id) + state.filter_query(changed=None)
    return frame_url(version.id, frame_id) + link_query


def tile(frame: dict, *, state: BrowseState, version, link_query: str, change: str = "") -> dict:
    """A grid tile (or table row). `change` (added | edited | deleted) is set under the `changed` filter; a
    deleted frame is no longer in this version, so its tile opens the parent's frame page."""
    sources = frame.get("sources") or []
    images = [source_image(version.dataset_id, s) for s in chosen_sources(sources, state.source)]
    return {
        "id": frame["id"],
        "context_id": frame["context_id"],
        "timestamp": frame["timestamp"],
        "url": frame_page_url(version, frame["id"], deleted=change == "deleted", state=state, link_query=link_query),
        "change": change,
        "images": images,
        "span": min(len(images), 3),
        "source_count": len(sources),
        "chips": label_chips(frame.get("rois")),
        "meta": [cell_text(_meta_value(frame.get("meta") or {}, key)) for key in state.cols],
    }


def context_name(context_id: str) -> str:
    """The short name of a context (the file name of a URI), for tiles and headings."""
    tail = context_id.rstrip("/").rsplit("/", 1)[-1]
    return tail or context_id or "(no context)"


def meta_keys(frames: list[dict]) -> list[str]:
    keys: dict[str, None] = {}
    for frame in frames:
        for key, value in (frame.get("meta") or {}).items():
            keys[key] = None
            if isinstance(value, dict):
                for sub in value:
                    keys[f"{key}.{sub}"] = None
    return sorted(keys)


def source_ids(frames: list[dict]) -> list[str]:
    ids: dict[str, None] = {}
    for frame in frames:
        for source in frame.get("sources") or []:
            ids[str(source.get("id", "default"))] = None
    return list(ids)


def strip_frame(frame: dict, *, version, link_query: str) -> dict:
    """What the film strip needs of one frame: its thumbnail, a larger image, and its ROIs with the source ids
    (static/js/viewer/rois.js picks those of the first source and draws them, as on the frame page)."""
    sources = frame.get("sources") or []
    source = sources[0] if sources else {}
    thumb = source_image(version.dataset_id, source)
    large = source_image(version.dataset_id, source, full=True)
    return {
        "id": frame["id"],
        "timestamp": frame["timestamp"],
        "page": tiff_page(source),  # a TIFF frame is labelled by its page, not by a timestamp
        "thumb": thumb["url"],
        "image": large["url"] or thumb["url"],
        "reason": thumb["reason"],
        "width": source.get("width"),
        "height": source.get("height"),
        "href": frame_url(version.id, frame["id"]) + link_query,
        "chips": [{"label": c["label"], "colour": c["colour"]} for c in label_chips(frame.get("rois"))],
        "source_ids": [str(s.get("id", "default")) for s in sources],
        "rois": frame.get("rois") or [],
    }
