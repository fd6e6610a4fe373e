"""The frame contract: everything the browser's viewer needs of one frame, in one JSON object.

The frame page embeds it as a JSON island (`{{ contract|json_script:"frame-contract" }}`) and
static/js/viewer/ reads it (static/js/viewer/contract.js `readContract`). Fields:

- `frame`: the frame exactly as `GET /api/versions/<version>/frames/<frame>/` returns it (the same
  `selectors.frames_to_dicts` call): ClearML frame JSON with `saved`, `saved_in_version`, `dataset`, and on each
  source (and mask) the preview a worker made (`preview` with `generated: true`) or its `preview_status` /
  `preview_error`. Sources that came without `width`/`height` carry the ones the worker measured.
- `etag`: the frame's ETag, as the API's `ETag` header says it; an editor sends it back in `If-Match`.
- `api_url`: the frame's URL in the REST API (GET it, PUT/PATCH/DELETE it with `If-Match: <etag>`).
- `sources`: one entry per `frame.sources`, in the same order (the first is where an ROI naming no source
  belongs), each
    - `id`: the source id (`"default"` when the frame names none);
    - `image`: the URL of the image to show large: the original when a browser can show its format, else a
      large rendition a worker makes on first view (a video frame, a TIFF page), else the preview; null when
      there is none;
    - `preview`: the URL of the small preview (what tiles show), the fallback when `image` fails to load;
      null when there is none;
    - `reason`: why neither can be shown ("preview pending", "preview failed: ..."); "" when one can;
    - `note`: for an http(s) image the server could not read but the browser is shown directly (it may reach
      hosts the server cannot), why there is no preview ("preview failed: ..."); "" otherwise;
    - `masks`: one entry per `source.masks`, in order: `id`, `image` (the worker-made lossless PNG of the
      mask, every pixel's RGB value exact, or null) and `reason` (why there is no image yet; "" when there is);
    - `pyramid`: null when the image is shown whole (a video; an image whose long side is at most
      HYPERDATA_PYRAMID_MIN_SIDE, by default the large rendition's size; an image whose size is not known yet).
      Else its deep zoom pyramid, tiles a worker makes on first view (frames.selectors.pyramids):
        - `state`: "none" (nobody asked yet, or the last build failed a while ago), "pending" (being made),
          "ready", or "failed";
        - `reason`: what is being done or why it failed ("waiting for a worker", "stored 40 of 2150 tiles",
          "cannot make tiles of this TIFF file: ..."); "" otherwise;
        - `status_url`: answers this same object, fresh, as JSON (or null when the source no longer needs a
          pyramid), and asks a worker for the pyramid when the state is "none": GET it while the state is
          "none" or "pending" (every second or two), and show `image` meanwhile and when it fails;
        - only when ready: `width`, `height` (the full-size picture, upright, in pixels: the source's pixel
          space); `tile_size` (a tile's side without its overlap) and `overlap` (the pixels a tile repeats of
          each neighbour); `format` ("jpeg", or "png" for pictures with transparency); `max_level` (the
          full-size level: level 0 is 1x1 pixel and each level halves the next, rounding up, as Deep Zoom
          and OpenSeadragon number them); `tile_url`: the URL of any tile, with `{level}`, `{x}` and `{y}` to
          replace by whole numbers (a tile outside its level answers 404).
    - `video`: for a video source, `{"url", "start"}`: the original to play in the browser's own player (the
      media proxy answers byte ranges, so it can seek) and the frame's place in it in seconds (the source's
      timestamp); null for other sources;
    - `page`: for a TIFF source, the page it shows (0 is the first; `meta.page`), which the page names instead
      of a timestamp; null for other sources.
- `mask_labels`: the version's map of mask RGB values to labels (ClearML's `mask_labels` in the version
  metadata: `{"_all_" | <mask id>: [{"value": [r, g, b], "labels": [...]}]}`); `{}` when it has none.
- `parent`: null for a root version; else the frame as the parent version shows it, to compare with:
  `{"version": {"id", "name"}, "frame": <the parent's frame, as `frame` above but read in the parent version,
  or null when the parent did not have it>, "status": "added" | "edited" | "unchanged"}` (whether this
  version saved the frame, and whether the parent had it; static/js/viewer/diff.js compares the ROIs).
- `edit`: whether the user may change this frame here, and how to get to where they may:
    - `editable`: true when the version is a draft and the user's role in the dataset is annotator or owner
      (staff count as owners); the annotator's tools are offered only then;
    - `reason`: "" when editable; else a sentence saying why the page is read-only (a published version; the
      user's role), for the read-only notice (templates/viewer/_edit_notice.html);
    - `role`: the user's role in the dataset: "viewer", "annotator" or "owner";
    - `annotate_url`: only for an owner on a published version, else null: a POST to it (with the CSRF token)
      makes a draft child of this version and redirects to this frame's page in the child, keeping the
      browser's filter and order (viewer/views/annotate.py);
    - `labels_url`: the version's label names as JSON (viewer:version-labels), for the label autocomplete.

Every URL is ready to use: signed for the frame's dataset (frames.links) where the media proxy serves it.
"""
from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse

from frames import selectors
from frames.models import DatasetVersion, FrameRevision
from frames.schema import frame_etag
from viewer.media import original_image_url, placeholder_reason, preview_note, tiff_page, tile_image_url, video_media
from viewer.roles import role_of

PUBLISHED_REASON = "This version is published: published versions never change."
# What follows PUBLISHED_REASON, by role: who can open a draft to annotate in.
PUBLISHED_NEXT_STEP = {
    selectors.OWNER: " Make a draft child to annotate in.",
    selectors.ANNOTATOR: " An owner of this dataset can make a draft child to annotate in.",
    selectors.VIEWER: "",
}
VIEWER_REASON = "Your role in this dataset is viewer: annotating needs annotator or owner."


def frame_contract(*, user, version: DatasetVersion, revision: FrameRevision, nav_query: str = "") -> dict:
    """The frame contract of `revision` as `user` may read it in `version` (see the module's docstring);
    `nav_query` (the browser's filter and order, without "?") is kept by the `edit.annotate_url` redirect."""
    frame = selectors.frames_to_dicts([revision], user=user, version=version)[0]
    return {
        "frame": frame,
        "etag": frame_etag(revision.saved),
        "api_url": reverse("api:frame-detail", args=[version.id, revision.frame_id]),
        "sources": [source_media(version.dataset_id, source, pyramid) for source, pyramid in
                    zip(frame.get("sources") or [], selectors.source_pyramids(user=user, version=version, frame=frame))],
        "mask_labels": (version.metadata or {}).get("mask_labels") or {},
        "parent": _parent(selectors.parent_frame(user=user, version=version, revision=revision)),
        "edit": edit_access(user=user, version=version, frame_id=revision.frame_id, nav_query=nav_query),
    }


def edit_access(*, user, version: DatasetVersion, frame_id: str, nav_query: str = "") -> dict:
    """The contract's `edit` entry. The role is the one read with the version (no query)."""
    role = role_of(user, version)
    if version.is_published:
        reason = PUBLISHED_REASON + PUBLISHED_NEXT_STEP[role]
    elif role == selectors.VIEWER:
        reason = VIEWER_REASON
    else:
        reason = ""
    annotate_url = None
    if version.is_published and role == selectors.OWNER:
        query = urlencode({"frame": frame_id}) + (f"&{nav_query}" if nav_query else "")
        annotate_url = reverse("viewer:version-annotate", args=[version.id]) + "?" + query
    return {
        "editable": not reason,
        "reason": reason,
        "role": role,
        "annotate_url": annotate_url,
        "labels_url": reverse("viewer:version-labels", args=[version.id]),
    }


def _parent(parent: selectors.ParentFrame | None) -> dict | None:
    if parent is None:
        return None
    return {"version": {"id": parent.version.id, "name": parent.version.name}, "frame": parent.frame, "status": parent.status}


def source_media(dataset_id: str, source: dict, pyramid: dict | None = None) -> dict:
    """The resolved image URLs of one source and its masks, and its pyramid entry (selectors.source_pyramids)."""
    preview = tile_image_url(dataset_id, source)
    image = original_image_url(dataset_id, source) or preview
    return {
        "id": str(source.get("id", "default")),
        "image": image,
        "preview": preview,
        "reason": "" if image else placeholder_reason(source),
        "note": preview_note(source) if image else "",
        "masks": [mask_media(dataset_id, mask) for mask in source.get("masks") or []],
        "pyramid": pyramid,
        "video": video_media(dataset_id, source),
        "page": tiff_page(source),
    }


def mask_media(dataset_id: str, mask: dict) -> dict:
    """A mask is shown only through its lossless PNG preview: the original may be a video, a 16-bit or palette
    PNG that a browser would decode to other RGB values, or a format it cannot read at all."""
    has_preview = isinstance(mask.get("preview"), dict) and bool(mask["preview"].get("uri"))
    image = tile_image_url(dataset_id, mask) if has_preview else None
    return {"id": str(mask.get("id", "")), "image": image, "reason": "" if image else placeholder_reason(mask)}
