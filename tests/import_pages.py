"""What the Import tab's tests share (tests/test_ui_import.py, tests/test_ui_import_formats.py): frames as a
ClearML user has them, JSON-lines files (with a bad line on demand), a dataset with an owner, an annotator and a
viewer, signing a Chromium page in, screenshots (/tmp/shots-14/import/ or $HYPERDATA_SCREENSHOTS) and the
report's label table as the page shows it."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from frames import services

from .clients import api_client
from .conftest import TESTDATA_DIR

SHOTS = Path(os.environ.get("HYPERDATA_SCREENSHOTS") or "/tmp/shots-14/import")
WAIT_MS = 60_000
LABELS = ["car", "person", "car", "bike"]
COCO_DIR = TESTDATA_DIR / "coco" / "labelformat"  # instances.json and its two images
IMAGES = sorted(COCO_DIR.glob("*.jpg"))


def make_frames(count: int) -> list[dict]:
    """Frames as a ClearML user has them: a source each, a labelled box or two, weather in the metadata."""
    frames = []
    for i in range(count):
        rois = [{"labels": [LABELS[i % 4]], "poly": [1, 1, 20, 1, 20, 20, 1, 20], "confidence": 0.9}]
        if i % 3 == 0:
            rois.append({"labels": ["person"], "poly": [30, 30, 40, 30, 40, 40]})
        image = IMAGES[i % len(IMAGES)]  # a real file, so the worker's previews are real too
        frames.append({"id": f"street/{i:03d}.jpg", "sources": [{"id": "front", "uri": str(image), "width": 640, "height": 480}],
                       "rois": rois, "meta": {"weather": ["sunny", "rain"][i % 2], "speed": i}})
    return frames


@pytest.fixture(scope="module", autouse=True)
def coco_files():
    """The test data the frames point at (import it into a test module: it is autouse there)."""
    if not (COCO_DIR / "instances.json").is_file() or len(IMAGES) != 2:
        pytest.fail(f"{COCO_DIR} should hold instances.json and two JPEGs (../shared/testdata/README.md)", pytrace=False)


def label_counts(frames: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for frame in frames:
        for roi in frame["rois"]:
            for label in roi["labels"]:
                counts[label] = counts.get(label, 0) + 1
    return counts


def write_lines(path: Path, frames: list[dict], *, bad_line: int | None = None) -> Path:
    lines = [json.dumps(frame) for frame in frames]
    if bad_line is not None:
        lines[bad_line - 1] = '{"id": "broken", "sources": "not a list"}'
    path.write_text("\n".join(lines) + "\n")
    return path


def api_count(user, version, **params) -> int:
    answer = api_client(user).get(f"/api/versions/{version.pk}/frames/", {**params, "count": "true", "limit": 1})
    assert answer.status_code == 200, answer.content
    return answer.json()["count"]


@pytest.fixture
def people(django_user_model, settings):
    settings.HYPERDATA_PREVIEWS_AUTO = False
    owner = django_user_model.objects.create_user("olga", password="pw-olga-123456")
    dataset = services.dataset_create(user=owner, name="streets")
    for name, role in (("annie", "annotator"), ("vic", "viewer")):
        django_user_model.objects.create_user(name, password=f"pw-{name}-123456")
        services.member_set(user=owner, dataset=dataset, username=name, role=role)
    users = {u.username: u for u in django_user_model.objects.filter(username__in=["olga", "annie", "vic"])}
    return users, dataset.versions.get()


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def published_child(owner, draft):
    """Publish `draft` and open a draft child of it: (published, new draft)."""
    published = services.version_publish(user=owner, version=draft)
    return published, services.version_create(user=owner, parent=published, name="next")



def sign_in(page, live_server, user, width=1440):
    cookie = client_of(user).cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}])
    page.set_default_timeout(30_000)
    page.set_viewport_size({"width": width, "height": 900})
    return page


def shot(page, name, width=None):
    """A full-page screenshot from the top (at `width` px when given: the side bar's slide has ended)."""
    if width:
        page.set_viewport_size({"width": width, "height": 844 if width < 760 else 900})
        page.wait_for_timeout(400)
    page.evaluate("window.scrollTo(0, 0)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def report_labels(page) -> dict[str, int]:
    rows = page.locator("#import-labels tbody tr")
    return {rows.nth(i).get_attribute("data-label"): int(rows.nth(i).locator("td.num").inner_text().replace(",", "")) for i in range(rows.count())}
