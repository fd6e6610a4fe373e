"""Copy-on-write versions at a million frames (PostgreSQL).

Builds (once; reused on later runs) a dataset whose root version has 1,000,000 frames, then five generations
of child versions that each edit 1% of the frames and delete 0.1%. Prints child-creation time for a parent of
10 frames vs 1,000,000, and server time for a page of 100 frames at page 1 and page 5,000, with and without
label filters, on the root and on the 5th-generation child, and for the first Group-by-context page.

    python bench/versions.py            # BENCH_FRAMES=1000000 by default
"""
import json
import os
import random
import statistics
import time

from _django import setup

FRAMES = int(os.environ.get("BENCH_FRAMES", "1000000"))
GENERATIONS = 5
PAGE = 100
setup(os.environ.get("BENCH_DB", "hyperdata_bench_versions"))

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from django.db import transaction  # noqa: E402

from frames import selectors, services  # noqa: E402
from frames.filters import frames_matching, parse_filters  # noqa: E402
from frames.models import Dataset, DatasetVersion, FrameRevision  # noqa: E402
from frames.selectors import FrameQuery  # noqa: E402
from frames.selectors.query import encode_cursor  # noqa: E402
from frames.services.bulk import insert_revisions  # noqa: E402

DATASET = f"bench-{FRAMES}"
RARE_EVERY = 1000  # 0.1% of frames carry the rare label


def make_frame(i: int, label_variant: str = "") -> dict:
    labels = [["car"], ["car", "person"], ["truck"], ["car"], ["bike"]][i % 5]
    rois = [{"labels": labels, "poly": [10, 10, 60, 10, 60, 40, 10, 40], "confidence": (i % 100) / 100}]
    if i % RARE_EVERY == 7:
        rois.append({"labels": ["unicorn"], "poly": [1, 1, 5, 1, 5, 5]})
    if label_variant:
        rois.append({"labels": [label_variant], "poly": [0, 0, 3, 0, 3, 3]})
    video = i // 50
    return {
        "id": f"frame-{i:08d}",
        "context_id": f"s3://bench/videos/{video:06d}.mp4",
        "timestamp": (i % 50) * 100,
        "meta": {"speed": i % 120, "weather": ["sunny", "rain", "fog"][i % 3]},
        "sources": [{"id": "default", "uri": f"s3://bench/videos/{video:06d}.mp4", "content_type": "video/mp4",
                     "width": 1920, "height": 1080, "timestamp": (i % 50) * 100}],
        "rois": rois,
    }


def load_root_frames(version, numbers):
    """The root's million frames go straight in with COPY (the same rows frames_add writes, without its
    per-frame validation and replace checks: the root is empty and the frames are made here)."""
    saved = int(time.time() * 1000)
    revisions = []
    for i in numbers:
        frame = make_frame(i)
        for n, roi in enumerate(frame["rois"]):
            roi["id"] = f"{i}-{n}"
        revisions.append(FrameRevision(
            dataset_id=version.dataset_id, version_id=version.pk, version_seq=version.seq, frame_id=frame["id"],
            context_id=frame["context_id"], timestamp=frame["timestamp"], saved=saved, num_frames=1,
            meta=frame["meta"], sources=frame["sources"], rois=frame["rois"],
        ))
    with transaction.atomic():
        insert_revisions(revisions)


def build(owner):
    """The dataset (owned by `owner`, the user the API is measured as), built unless it exists."""
    dataset = Dataset.objects.filter(name=DATASET).first()
    if dataset and dataset.versions.filter(status="published").count() == GENERATIONS + 1:
        print(f"reusing {DATASET}: {dataset.versions.get(seq=1).frame_count:,} root frames", flush=True)
        if not selectors.role_of(user=owner, dataset_id=dataset.pk):
            services.member_set(user=selectors.SYSTEM, dataset=dataset, username=owner.username, role=selectors.OWNER)
        return dataset
    if dataset:
        services.dataset_delete(user=owner, dataset=dataset)
    dataset = services.dataset_create(user=owner, name=DATASET)
    version = dataset.versions.get()
    start = time.perf_counter()
    batch = 10_000
    for offset in range(0, FRAMES, batch):
        load_root_frames(version, range(offset, min(FRAMES, offset + batch)))
    DatasetVersion.objects.filter(pk=version.pk).update(frame_count=FRAMES)
    version.refresh_from_db()
    elapsed = time.perf_counter() - start
    print(f"built root: {FRAMES:,} frames in {elapsed:.0f} s ({FRAMES / elapsed:,.0f} frames/s, COPY)", flush=True)
    rng = random.Random(1)
    for generation in range(1, GENERATIONS + 1):
        published, version = services.version_snapshot(user=owner, version=version, name=f"gen{generation - 1}")
        edited = rng.sample(range(FRAMES), FRAMES // 100)
        for offset in range(0, len(edited), batch):
            services.frames_add(user=owner, version=version, frames=[make_frame(i, f"edit{generation}") for i in edited[offset : offset + batch]])
        deleted = rng.sample(range(FRAMES), FRAMES // 1000)
        services.frames_delete(user=owner, version=version, frame_ids=[f"frame-{i:08d}" for i in deleted])
    services.version_publish(user=owner, version=version, name=f"gen{GENERATIONS}")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"built {GENERATIONS} child generations (1% edited, 0.1% deleted each)", flush=True)
    return dataset


def timed(fn, repeat=7):
    """Median wall time in ms of fn() over `repeat` runs after one warm-up."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def ok(response):
    assert response.status_code == 200, response.content[:300]
    return response


def cursor_at(version, filters, page_number):
    """The cursor a client holds after reading `page_number - 1` pages (found once by offset, not timed)."""
    rows = frames_matching(version, filters).order_by("context_id", "timestamp", "frame_id")
    row = rows.values("context_id", "timestamp", "frame_id")[(page_number - 1) * PAGE - 1]
    return encode_cursor([row["context_id"], row["timestamp"], row["frame_id"]])


def child_creation_ms(user, parent, repeat=7):
    """Median time of version_create alone (each child is deleted again, untimed)."""
    samples = []
    for _ in range(repeat + 1):
        start = time.perf_counter()
        child = services.version_create(user=user, parent=parent, name="bench-child")
        samples.append((time.perf_counter() - start) * 1000)
        services.version_delete(user=user, version=child)
    return statistics.median(samples[1:])


def main():
    user = User.objects.get_or_create(username="bench")[0]
    dataset = build(user)
    versions = list(dataset.versions.order_by("seq"))
    root, deepest = versions[0], versions[-1]
    small = Dataset.objects.filter(name="bench-small").first() or services.dataset_create(user=user, name="bench-small")
    small_root = small.versions.order_by("seq").first()
    if not small_root.is_published:
        services.frames_add(user=user, version=small_root, frames=[make_frame(i) for i in range(10)])
        small_root = services.version_publish(user=user, version=small_root)

    rows = []
    small_ms, big_ms = child_creation_ms(user, small_root), child_creation_ms(user, root)
    rows.append(("child version of a 10-frame parent", small_ms, ""))
    rows.append((f"child version of a {root.frame_count:,}-frame parent", big_ms, f"ratio {big_ms / small_ms:.2f}x"))

    client = APIClient(SERVER_NAME="localhost")
    client.force_authenticate(user)
    label_filters = {
        "no filter": [],
        "label car (60%)": [{"rois": [{"labels": ["car"]}]}],
        "label unicorn (0.1%)": [{"rois": [{"labels": ["unicorn"]}]}],
        "meta.weather:fog AND meta.speed:[10 TO 60]": [{"frame_query": "meta.weather:fog AND meta.speed:[10 TO 60]"}],
    }
    for version, where in ((root, "root"), (deepest, f"gen-{GENERATIONS} child")):
        for name, raw in label_filters.items():
            filters = tuple(parse_filters(raw))
            total = selectors.frames_count(user=user, version=version, filters=filters)
            deep_page = min(5000, max(1, total // PAGE))
            for page_number in (1, deep_page):
                cursor = None if page_number == 1 else cursor_at(version, filters, page_number)
                query = FrameQuery(filters=filters, cursor=cursor, limit=PAGE)
                ms = timed(lambda: selectors.frames_browse(user=user, version=version, query=query))
                params = {"limit": PAGE, **({"cursor": cursor} if cursor else {})}
                if raw:
                    params["filters"] = json.dumps(raw)
                api_ms = timed(lambda: ok(client.get(f"/api/versions/{version.id}/frames/", params)), repeat=5)
                rows.append((f"{where}: page {page_number:,} of 100, {name}", ms, f"API {api_ms:.1f} ms"))
        first_page = FrameQuery(limit=PAGE)
        cold_ms = timed(lambda: selectors.contexts_list(user=user, version=version, query=first_page))
        rows.append((f"{where}: Group-by-context page 1, tallies computed", cold_ms, ""))
        ms = timed(lambda: services.contexts_page(user=user, version=version, query=first_page))
        api_ms = timed(lambda: ok(client.get(f"/api/versions/{version.id}/contexts/", {"limit": PAGE})), repeat=5)
        rows.append((f"{where}: Group-by-context page 1, tallies cached (published)", ms, f"API {api_ms:.1f} ms"))

    print(f"\n{'measure':<66} {'server ms':>10}  note")
    for name, ms, note in rows:
        print(f"{name:<66} {ms:>10.1f}  {note}", flush=True)


if __name__ == "__main__":
    main()
