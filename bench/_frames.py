"""The frames bench/jump.py and bench/contexts_jump.py page through: a root version loaded by COPY (as
bench/versions.py does), kept between runs."""
from __future__ import annotations

import time

from django.db import connection, transaction

from frames import services
from frames.models import Dataset, DatasetVersion, FrameRevision
from frames.selectors import SYSTEM
from frames.services.bulk import insert_revisions

LABELS = [["car"], ["car", "person"], ["truck"], ["car"], ["bike"]]


def make_revision(version, i: int, saved: int, per_context: int) -> FrameRevision:
    video = i // per_context
    return FrameRevision(
        dataset_id=version.dataset_id, version_id=version.pk, version_seq=version.seq, frame_id=f"frame-{i:08d}",
        context_id=f"s3://bench/videos/{video:07d}.mp4", timestamp=(i % per_context) * 100, saved=saved, num_frames=1,
        meta={"speed": i % 120}, sources=[{"id": "default", "uri": f"s3://bench/videos/{video:07d}.mp4", "width": 1920, "height": 1080}],
        rois=[{"id": f"{i}-0", "labels": LABELS[i % 5], "poly": [10, 10, 60, 10, 60, 40], "confidence": (i % 100) / 100}],
    )


def kept_or_loaded(name: str, frames: int, per_context: int) -> tuple[DatasetVersion, DatasetVersion | None]:
    """(published, child) kept from an earlier run, or (a root just loaded with `frames` frames, None)."""
    dataset = Dataset.objects.filter(name=name).first()
    if dataset and dataset.versions.count() == 2:
        print(f"reusing {name}", flush=True)
        return dataset.versions.get(seq=1), dataset.versions.get(seq=2)
    if dataset:
        services.dataset_delete(user=SYSTEM, dataset=dataset)
    root = services.dataset_create(user=SYSTEM, name=name).versions.get()
    start, saved = time.perf_counter(), int(time.time() * 1000)
    for offset in range(0, frames, 10_000):
        with transaction.atomic():
            insert_revisions([make_revision(root, i, saved, per_context) for i in range(offset, min(frames, offset + 10_000))])
    DatasetVersion.objects.filter(pk=root.pk).update(frame_count=frames)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"loaded {frames:,} frames in {time.perf_counter() - start:.0f} s", flush=True)
    root.refresh_from_db()
    return root, None
