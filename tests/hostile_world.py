"""A dataset whose every user-typed text is markup (issue 16): the dataset, project, version, label, metadata,
tag, context, dataview and job texts and a source's file name are `<img src=x onerror=window.__xss=1>` or
`"><script>window.__xss=1</script>`. tests/test_hostile_pages.py shows them on every page; PAGES lists those
pages with the text each must show literally."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from frames import services

IMG = "<img src=x onerror=window.__xss=1>"
SCRIPT = '"><script>window.__xss=1</script>'


@dataclass
class World:
    dataset: object
    published: object
    draft: object
    job: object
    image: Path


def hostile_frames(image: Path) -> list[dict]:
    roi = {"labels": [IMG], "poly": [8, 8, 120, 8, 120, 90, 8, 90], "confidence": 0.9, "meta": {"note": SCRIPT}}
    return [
        {"id": f"f{i}", "context_id": SCRIPT, "timestamp": i * 100,
         "sources": [{"id": "default", "uri": image.as_uri(), "width": 160, "height": 120, "meta": {SCRIPT: IMG}}],
         "rois": [roi, {"labels": [SCRIPT], "poly": [130, 10, 150, 10, 150, 30]}, {"labels": [SCRIPT]}],
         "meta": {"weather": IMG, "note": SCRIPT, "speed": i}}
        for i in range(1, 4)
    ]


def make_hostile_world(owner, media_dir: Path) -> World:
    image = media_dir / f"{IMG}.jpg"  # a real picture whose file name is markup
    Image.new("RGB", (160, 120), (90, 140, 200)).save(image, "JPEG")
    dataset = services.dataset_create(user=owner, name=IMG, description=SCRIPT, tags=[IMG, SCRIPT],
                                      metadata={SCRIPT: IMG}, new_project=SCRIPT)
    first = dataset.versions.get()
    services.frames_add(user=owner, version=first, frames=hostile_frames(image))
    published = services.version_publish(user=owner, version=first, name=SCRIPT)
    mask_labels = {"_all_": [{"value": [10, 20, 30], "labels": [IMG, SCRIPT]}]}  # the metadata tab's table
    draft = services.version_create(user=owner, parent=published, name=IMG, description=SCRIPT,
                                    metadata={IMG: SCRIPT, "mask_labels": mask_labels})
    services.dataview_create(user=owner, data={"name": IMG, "queries": [{"version": published.pk, "frame_query": ""}]})
    job = services.job_start(user=owner, kind="stats", key=f"hostile:{published.pk}", version=published, subject=SCRIPT, task=None)
    services.job_fail(job=job, error=IMG)
    return World(dataset, published, draft, job, image)


def pages(world: World) -> dict[str, tuple[str, tuple[str, ...]]]:
    """name -> (path, texts the page shows literally)."""
    pub, draft, ds = world.published.pk, world.draft.pk, world.dataset.pk
    both = (IMG, SCRIPT)
    return {
        "datasets": ("/", both),
        "datasets-table": ("/?view=table", both),
        "version-tree": (f"/datasets/{ds}/", both),
        "version-list": (f"/datasets/{ds}/?view=list", both),
        "frames-grid": (f"/versions/{pub}/", both),
        "frames-table": (f"/versions/{pub}/?view=table", both),
        "group-by-url": (f"/versions/{pub}/?group=context", (SCRIPT,)),
        "frame-viewer": (f"/versions/{pub}/frame/f1", both),
        "annotator": (f"/versions/{draft}/frame/f1", both),
        "stats": (f"/versions/{pub}/stats/", both),
        "metadata": (f"/versions/{draft}/metadata/", both),
        "info": (f"/versions/{pub}/info/", (SCRIPT,)),
        "import": (f"/versions/{draft}/import/", (IMG,)),
        "split": (f"/versions/{pub}/split/", (SCRIPT,)),
        "members": (f"/datasets/{ds}/members/", (IMG,)),
        "jobs": ("/jobs/", (SCRIPT,)),
        "job": (f"/jobs/{world.job.pk}/", both),
        "dataviews": ("/dataviews/", (IMG,)),
        "cloud-access": ("/settings/cloud-access/", ()),
        "api-docs": ("/api/docs/", ()),
        "admin": ("/admin/frames/dataset/", (IMG,)),
    }
