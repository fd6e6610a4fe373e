"""The demo dataset: made on this machine on first run (never downloaded), through frames.services only.

Media go to settings.VAR_DIR / "demo" (one of settings.HYPERDATA_MEDIA_ROOTS; sources are file:// URIs):
- 12 street scenes (JPEG) with polygons and boxes (car, person, traffic sign, road), frame labels,
  confidences and metadata (weather, speed, city, ...), each with a segmentation mask (PNG) whose RGB values
  the version metadata maps to labels (`mask_labels`);
- a FrameGroup of two sources (`front`, `rear`), twice in one context;
- a 3-page TIFF, one frame per page (source meta `{"page": n}`);
- a 3 s H.264 video at 10 fps, one frame per 100 ms sharing the video's URI as context_id.

Versions: `v1` (published, everything), its child `v2` (published; relabels and edits a few frames and
deletes one) and the draft `Current` under v2.
"""
from __future__ import annotations

import copy
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from . import demo_media as media
from . import services
from .demo_media import MASK_COLOURS, SceneSpec
from .models import Dataset
from .selectors.access import SYSTEM

DEMO_NAME = "Demo: street scenes"
DEMO_DESCRIPTION = (
    "Synthetic street scenes made by HyperData on first run: polygons and boxes, frame labels, segmentation "
    "masks, a front/rear FrameGroup, a multi-page TIFF and a short video."
)
IMAGE_SIZE = (640, 400)
TIFF_SIZE = (512, 320)
VIDEO_SIZE = (480, 272)
VIDEO_FPS = 10
VIDEO_FRAMES = 30  # 3 s

WEATHERS = ["sunny", "cloudy", "rain", "fog", "night", "sunny", "cloudy", "sunny", "rain", "night", "sunny", "fog"]
CITIES = ["Berlin", "Paris", "Tel Aviv", "Tokyo", "Austin", "Lyon", "Haifa", "Osaka", "Munich", "Boston", "Milan", "Seoul"]
MASK_LABELS = {"_all_": [{"value": list(rgb), "labels": [label]} for label, rgb in MASK_COLOURS.items()]}
VERSION_METADATA = {"mask_labels": MASK_LABELS, "generator": "frames.demo", "classes": sorted(MASK_COLOURS)}


@dataclass
class DemoInfo:
    name: str
    path: Path
    dataset_id: str
    created: bool


def media_root() -> Path:
    return Path(settings.VAR_DIR) / "demo"


def ensure_demo(stdout=None) -> DemoInfo:
    """Create the demo dataset unless a dataset of that name exists; (re)draw missing media either way."""
    out = stdout or sys.stdout
    root = media_root()
    existing = Dataset.objects.filter(name=DEMO_NAME).first()
    if existing is not None:
        if not all((root / name).exists() for name in expected_files()):
            build_media(root)
        return DemoInfo(DEMO_NAME, root, str(existing.pk), created=False)
    frames = build_media(root)
    _write(out, f"[demo] creating the demo dataset '{DEMO_NAME}' (media in {root})")
    dataset = create_demo_dataset(frames, owner=demo_owner())
    return DemoInfo(DEMO_NAME, root, str(dataset.pk), created=True)


# ------------------------------------------------------------------------------------------- versions
def demo_owner():
    """The `admin` login (or the first superuser) owns the demo; the system, when there is none yet."""
    users = get_user_model().objects
    return users.filter(username="admin").first() or users.filter(is_superuser=True).order_by("pk").first() or SYSTEM


def create_demo_dataset(frames: list[dict], *, owner):
    """v1 (published) -> v2 (published, a few edits and one deletion) -> Current (draft), owned by `owner`."""
    with transaction.atomic():
        dataset = services.dataset_create(
            user=owner, name=DEMO_NAME, description=DEMO_DESCRIPTION, tags=["demo", "synthetic"],
            metadata={"generator": "frames.demo"},
        )
        draft = dataset.versions.get()
        v1 = services.version_update(
            user=owner, version=draft, name="v1", description="All demo media, machine-labelled.", metadata=VERSION_METADATA
        )
        _check(services.frames_add(user=owner, version=v1, frames=frames))
        v1 = services.version_publish(user=owner, version=v1)

        v2 = services.version_create(
            user=owner, parent=v1, name="v2", description="Reviewed: taxis relabelled, confidences fixed, one frame dropped.",
            metadata=VERSION_METADATA,
        )
        replaced, updates, deleted = v2_edits(frames)
        _check(services.frames_add(user=owner, version=v2, frames=replaced))
        services.frames_update(user=owner, version=v2, frames=updates)
        services.frames_delete(user=owner, version=v2, frame_ids=deleted)
        v2 = services.version_publish(user=owner, version=v2)

        services.version_create(user=owner, parent=v2, name="Current", description="Work in progress.", metadata=VERSION_METADATA)
    return dataset


def v2_edits(frames: list[dict]):
    """What v2 changes: frames replaced whole (relabels), frames updated (meta), ids deleted."""
    by_id = {frame["id"]: frame for frame in frames}
    replaced = []
    taxi = copy.deepcopy(by_id["street-03"])
    for roi in taxi["rois"]:
        if "car" in roi["labels"]:
            roi["labels"] = ["car", "taxi"]
            roi["confidence"] = 1.0
            break
    taxi["rois"].append(_frame_label(taxi["id"], len(taxi["rois"]), ["reviewed"]))
    replaced.append(taxi)
    people = copy.deepcopy(by_id["street-07"])
    for roi in people["rois"]:
        if roi["labels"] == ["person"]:
            roi["confidence"] = 1.0
            roi["meta"] = {**roi.get("meta", {}), "verified": True}
    people["rois"].append(_frame_label(people["id"], len(people["rois"]), ["reviewed"]))
    replaced.append(people)
    updates = []
    for frame_id in ("street-05", "video-0000"):
        meta = {**by_id[frame_id]["meta"], "reviewed": True, "reviewer": "admin"}
        updates.append({"id": frame_id, "meta": meta})
    return replaced, updates, ["street-12"]


def _check(result):
    failed = list(getattr(result, "failed", []) or [])
    if failed:
        raise RuntimeError(f"the demo frames were refused: {failed[:3]}")


def _write(out, message):
    out.write(message + ("" if message.endswith("\n") else "\n"))
    if hasattr(out, "flush"):
        out.flush()


# ---------------------------------------------------------------------------------------------- media
def expected_files() -> list[str]:
    names = []
    for n in range(1, len(WEATHERS) + 1):
        names += [f"street-{n:02d}.jpg", f"street-{n:02d}.mask.png"]
    for k in (1, 2):
        for side in ("front", "rear"):
            names += [f"group-{k:02d}-{side}.jpg", f"group-{k:02d}-{side}.mask.png"]
    return names + ["survey.tif", "drive.mp4"]


def build_media(root: Path) -> list[dict]:
    """Draw every demo file under root (only the missing ones) and return v1's frames (ClearML JSON)."""
    root.mkdir(parents=True, exist_ok=True)
    frames = []
    frames += _street_frames(root)
    frames += _group_frames(root)
    frames += _tiff_frames(root)
    frames += _video_frames(root)
    return frames


def _uri(path: Path) -> str:
    return path.resolve().as_uri()


def _roi_id(frame_id, index):
    return hashlib.md5(f"hyperdata-demo:{frame_id}:{index}".encode()).hexdigest()


def _rois(frame_id, shapes, source_ids, start=0):
    rois = []
    for index, shape in enumerate(shapes, start):
        roi = {"id": _roi_id(frame_id, index), "labels": list(shape.labels), "poly": shape.poly,
               "confidence": shape.confidence, "sources": list(source_ids)}
        if shape.meta:
            roi["meta"] = dict(shape.meta)
        if shape.shape:
            roi["shape"] = dict(shape.shape)
        rois.append(roi)
    return rois


def _frame_label(frame_id, index, labels, source_ids=("default",), confidence=1.0):
    """An ROI without poly or mask: a label for the whole frame."""
    return {"id": _roi_id(frame_id, index), "labels": list(labels), "confidence": confidence,
            "sources": list(source_ids)}


def _save_scene(image_path, mask_path, spec, size):
    if image_path.exists() and (mask_path is None or mask_path.exists()):
        _, _, shapes = media.draw_scene(spec, *size, with_mask=False)  # cheap: recompute annotations only
        return shapes
    image, mask, shapes = media.draw_scene(spec, *size, with_mask=mask_path is not None)
    image.save(image_path, format="JPEG", quality=88)
    if mask_path is not None:
        mask.save(mask_path, format="PNG", optimize=True)
    return shapes


def _street_frames(root):
    frames = []
    for n, weather in enumerate(WEATHERS, 1):
        frame_id = f"street-{n:02d}"
        image_path, mask_path = root / f"{frame_id}.jpg", root / f"{frame_id}.mask.png"
        spec = media.random_scene(n, weather)
        shapes = _save_scene(image_path, mask_path, spec, IMAGE_SIZE)
        rois = _rois(frame_id, shapes, ["default"])
        rois.append(_frame_label(frame_id, len(rois), [weather]))
        rois.append(_frame_label(frame_id, len(rois), ["urban"], confidence=round(0.8 + 0.015 * n, 3)))
        speed = (n * 37) % 90
        frames.append({
            "id": frame_id,
            "timestamp": 0,
            "meta": {"weather": weather, "speed": speed, "city": CITIES[n - 1],
                     "time_of_day": "night" if weather == "night" else "day", "camera": "front",
                     "moving": speed > 0, "sequence": n},
            "sources": [{
                "id": "default", "uri": _uri(image_path), "content_type": "image/jpeg",
                "width": IMAGE_SIZE[0], "height": IMAGE_SIZE[1], "timestamp": 0,
                "masks": [{"id": "seg", "content_type": "image/png", "uri": _uri(mask_path), "timestamp": 0}],
            }],
            "rois": rois,
        })
    return frames


def _group_frames(root):
    """FrameGroups: a front and a rear camera, two moments of one drive (context `drive-0042`)."""
    frames = []
    for k, timestamp in enumerate((0, 1000)):
        frame_id = f"group-{k + 1:02d}"
        sources, rois = [], []
        for side, seed in (("front", 201 + k), ("rear", 301 + k)):
            path, mask_path = root / f"{frame_id}-{side}.jpg", root / f"{frame_id}-{side}.mask.png"
            spec = media.random_scene(seed, "sunny" if side == "front" else "cloudy")
            shapes = _save_scene(path, mask_path, spec, IMAGE_SIZE)
            rois += _rois(frame_id, shapes, [side], start=len(rois))
            sources.append({
                "id": side, "uri": _uri(path), "content_type": "image/jpeg",
                "width": IMAGE_SIZE[0], "height": IMAGE_SIZE[1], "timestamp": timestamp,
                "meta": {"angle": 0 if side == "front" else 180, "fov": 110},
                "masks": [{"id": "seg", "content_type": "image/png", "uri": _uri(mask_path), "timestamp": timestamp}],
            })
        rois.append(_frame_label(frame_id, len(rois), ["intersection"], source_ids=("front", "rear")))
        frames.append({
            "id": frame_id, "context_id": "drive-0042", "timestamp": timestamp,
            "meta": {"weather": "sunny", "speed": 30 + 10 * k, "city": "Berlin", "vehicle": "car_1"},
            "sources": sources, "rois": rois,
        })
    return frames


def _tiff_frames(root):
    path = root / "survey.tif"
    specs = [media.random_scene(101 + page, weather) for page, weather in enumerate(["fog", "cloudy", "night"])]
    drawn = [media.draw_scene(spec, *TIFF_SIZE, with_mask=False) for spec in specs]
    if not path.exists():
        media.save_multipage_tiff(path, [image for image, _, _ in drawn])
    frames = []
    for page, (_, _, shapes) in enumerate(drawn):
        frame_id = f"tiff-page-{page}"
        frames.append({
            "id": frame_id, "timestamp": page,
            "meta": {"weather": specs[page].weather, "city": "Lyon", "pages": len(drawn)},
            "sources": [{
                "id": "default", "uri": _uri(path), "content_type": "image/tiff",
                "width": TIFF_SIZE[0], "height": TIFF_SIZE[1], "timestamp": 0, "meta": {"page": page},
            }],
            "rois": _rois(frame_id, shapes, ["default"]),
        })
    return frames


def _video_spec(i):
    t = i / max(1, VIDEO_FRAMES - 1)
    return SceneSpec(
        seed=4242, weather="sunny",
        cars=[
            # The blue car changes lanes while the red one comes closer.
            {"x": 0.5, "lane": -0.5 + 1.0 * t, "depth": 0.7, "colour": "blue", "confidence": 0.97},
            {"x": 0.5, "lane": 0.5, "depth": 0.1 + 0.45 * t, "colour": "red", "confidence": round(0.7 + 0.25 * t, 2)},
        ],
        people=[{"x": 0.9 - 0.05 * t, "depth": 0.35 + 0.3 * t}],
        signs=[{"x": 0.08, "depth": 0.3, "kind": "speed", "limit": 50}],
    )


def _video_frames(root):
    path = root / "drive.mp4"
    drawn = [media.draw_scene(_video_spec(i), *VIDEO_SIZE, with_mask=False) for i in range(VIDEO_FRAMES)]
    if not path.exists():
        partial = path.with_suffix(".part.mp4")
        media.write_video(partial, *VIDEO_SIZE, VIDEO_FPS, (image for image, _, _ in drawn))
        partial.replace(path)
    uri = _uri(path)
    frames = []
    for i, (_, _, shapes) in enumerate(drawn):
        ms = i * 1000 // VIDEO_FPS
        frame_id = f"video-{ms:04d}"
        rois = _rois(frame_id, shapes, ["default"])
        for roi in rois:
            if "car" in roi["labels"]:
                roi.setdefault("meta", {})["track_id"] = 1 if roi["meta"].get("colour") == "blue" else 2
        frames.append({
            "id": frame_id, "context_id": uri, "timestamp": ms,
            "meta": {"weather": "sunny", "speed": 40, "city": "Tokyo", "clip": "drive"},
            "sources": [{
                "id": "default", "uri": uri, "content_type": "video/mp4",
                "width": VIDEO_SIZE[0], "height": VIDEO_SIZE[1], "timestamp": ms,
            }],
            "rois": rois,
        })
    return frames
