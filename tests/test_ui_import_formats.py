"""The Import tab with each format's own input, in Debian's Chromium with a real Celery worker: a COCO .zip with
its images (labels as pycocotools counts them), Lightly's metadata examples as published (strict: file, line
and column; Lenient: imported, with what was mended), a 60,000-frame import whose progress bar moves, and Cancel.
Screenshots: /tmp/shots-14/import/."""
from __future__ import annotations

import json
import re
import time
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect
from pycocotools.coco import COCO

from .clients import api_client
from .conftest import TESTDATA_DIR
from .import_pages import COCO_DIR, IMAGES, WAIT_MS, api_count, coco_files, people, report_labels, shot, sign_in

__all__ = ["coco_files", "people"]  # fixtures


@pytest.mark.django_db(transaction=True)
def test_a_coco_zip_with_its_images_is_checked_and_imported(page, live_server, celery_worker_process, people, tmp_path):
    users, draft = people
    archive = tmp_path / "coco-labelformat.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in [COCO_DIR / "instances.json", *IMAGES]:
            out.write(path, f"labelformat/{path.name}")
    coco = COCO(str(COCO_DIR / "instances.json"))
    expected = {cat["name"]: len(coco.getAnnIds(catIds=[cat["id"]])) for cat in coco.loadCats(coco.getCatIds())}
    expected = {name: count for name, count in expected.items() if count}

    sign_in(page, live_server, users["annie"], width=390)
    page.goto(reverse("viewer:version-import", args=[draft.pk]))
    shot(page, "10-empty-390")
    page.check('input[name=format][value="coco"]')
    expect(page.locator('[data-help-for="coco"]').first).to_be_visible()
    page.set_input_files("#import-file", str(archive))
    page.click("#import-check")
    expect(page.locator("#import-state")).to_have_text("Done", timeout=WAIT_MS)
    expect(page.locator("#import-card-frames .card-value")).to_have_text(str(len(coco.getImgIds())))
    assert report_labels(page) == expected
    page.click("#import-run")
    expect(page.locator("#import-outcome")).to_contain_text(f"Imported {len(coco.getImgIds())} frames", timeout=WAIT_MS)
    shot(page, "11-coco-imported-390")
    assert api_count(users["annie"], draft) == len(coco.getImgIds())
    frames = api_client(users["annie"]).get(f"/api/versions/{draft.pk}/frames/", {"limit": 10}).json()["results"]
    assert sorted(Path(f["sources"][0]["uri"]).name for f in frames) == sorted(p.name for p in IMAGES)


@pytest.mark.django_db(transaction=True)
def test_a_large_import_moves_its_progress_bar(page, live_server, celery_worker_process, people, tmp_path):
    users, draft = people
    total = 60_000  # the worker reports every 10,000 frames; the page polls every second
    image = str(IMAGES[0])
    with (tmp_path / "many.jsonl").open("w") as out:
        for i in range(total):  # sources with their own preview: no preview work for the worker
            out.write(json.dumps({"id": f"f{i:06d}", "sources": [{"id": "s", "uri": image, "preview": {"uri": image}}],
                                  "rois": [{"labels": ["car" if i % 2 else "truck"]}]}) + "\n")
    sign_in(page, live_server, users["annie"])
    page.goto(reverse("viewer:version-import", args=[draft.pk]))
    page.set_input_files("#import-file", str(tmp_path / "many.jsonl"))
    page.click("#import-check")
    expect(page.locator("#import-run")).to_have_text("Import 60,000 frames", timeout=WAIT_MS)
    page.evaluate("""() => { window.seenCounts = [];
        new MutationObserver(() => window.seenCounts.push(document.getElementById("import-count").textContent))
            .observe(document.getElementById("import-count"), {childList: true, characterData: true, subtree: true}); }""")
    page.click("#import-run")
    expect(page.locator("#import-count")).to_have_text(re.compile(r"^[1-9][\d,]* / 60,000$"), timeout=WAIT_MS)
    shot(page, "12-importing-1440")
    expect(page.locator("#import-outcome")).to_contain_text("Imported 60,000 frames", timeout=WAIT_MS * 2)
    seen = [text for text in page.evaluate("window.seenCounts") if text.endswith("/ 60,000")]
    done = [int(text.split(" / ")[0].replace(",", "")) for text in seen]
    assert done[-1] == total and done == sorted(done), seen
    assert any(0 < d < total for d in done), seen  # it moved: a step between 0 and the end
    expect(page.locator("#import-bar")).to_have_attribute("aria-valuenow", "100")
    assert api_count(users["annie"], draft) == total


LIGHTLY_PUBLISHED = TESTDATA_DIR / "imports" / "lightly-custom-metadata" / "lightly-metadata"


@pytest.mark.django_db(transaction=True)
def test_lightlys_published_examples_are_named_by_line_and_column_and_imported_leniently(page, live_server, celery_worker_process, people, tmp_path):
    users, draft = people
    archive = tmp_path / "datasource.zip"
    with zipfile.ZipFile(archive, "w") as out:  # a datasource whose metadata files are Lightly's examples as published
        for path in sorted(LIGHTLY_PUBLISHED.glob("*.as-published.json")):
            out.write(path, f"datasource/.lightly/metadata/{path.name.replace('.as-published', '')}")
    sign_in(page, live_server, users["annie"])
    page.goto(reverse("viewer:version-import", args=[draft.pk]))
    page.check('input[name=format][value="lightly"]')
    page.set_input_files("#import-file", str(archive))
    page.fill("#import-options", '{"fps": 25}')
    page.click("#import-check")
    expect(page.locator("#import-state")).to_have_text("Done", timeout=WAIT_MS)
    rows = page.locator("#import-problems tbody tr")
    expect(rows).to_have_count(4)
    where = {tuple(rows.nth(i).locator("td").nth(c).inner_text() for c in range(3)) for i in range(4)}
    assert ("schema.json", "8", "5") in where and ("my_image.json", "12", "5") in where, where
    expect(page.locator("#import-run")).to_be_disabled()
    shot(page, "13-lightly-strict-1440")

    page.check("#import-lenient")
    expect(page.locator("#import-run-hint")).to_contain_text("check it again")
    page.click("#import-check")
    expect(page.locator("#import-run")).to_have_text("Import 2 frames", timeout=WAIT_MS)
    expect(page.locator("#import-notes li")).to_have_count(4)
    expect(page.locator("#import-notes")).to_contain_text("schema.json line 7: inserted a missing ','")
    expect(page.locator("#import-problems-block")).to_be_hidden()
    shot(page, "14-lightly-lenient-1440")
    page.click("#import-run")
    expect(page.locator("#import-outcome")).to_contain_text("Imported 2 frames", timeout=WAIT_MS)
    assert api_count(users["annie"], draft) == 2
    assert api_count(users["annie"], draft, frame_query="meta.weather.description:rainy") == 1


def wait_until_worker_idle(worker, seconds: float = 120) -> None:
    """Until every run_job task the worker received has ended (its log says so)."""
    deadline = time.monotonic() + seconds
    while True:
        log = worker.log()
        received = len(re.findall(r"Task frames\.tasks\.run_job\[[^\]]+\] received", log))
        if received == len(re.findall(r"Task frames\.tasks\.run_job\[[^\]]+\] (succeeded|raised|retry)", log)):
            return
        assert time.monotonic() < deadline, log[-3000:]
        time.sleep(0.25)


@pytest.mark.django_db(transaction=True)
def test_cancel_stops_a_running_import(page, live_server, celery_worker_process, people, tmp_path):
    users, draft = people
    image = str(IMAGES[0])
    with (tmp_path / "many.jsonl").open("w") as out:
        for i in range(100_000):
            out.write(json.dumps({"id": f"f{i:06d}", "sources": [{"id": "s", "uri": image, "preview": {"uri": image}}]}) + "\n")
    sign_in(page, live_server, users["annie"])
    page.goto(reverse("viewer:version-import", args=[draft.pk]))
    page.set_input_files("#import-file", str(tmp_path / "many.jsonl"))
    page.click("#import-check")
    expect(page.locator("#import-run")).to_have_text("Import 100,000 frames", timeout=WAIT_MS * 2)
    page.click("#import-run")
    expect(page.locator("#import-state")).to_have_text("Running", timeout=WAIT_MS)
    page.click("#import-cancel")
    expect(page.locator("#import-state")).to_have_text("Cancelled", timeout=WAIT_MS)
    expect(page.locator("#import-outcome")).to_contain_text("the Frames tab shows what the version holds")
    expect(page.locator("#import-run")).to_be_disabled()
    shot(page, "17-cancelled-1440")
    wait_until_worker_idle(celery_worker_process)
    assert api_count(users["annie"], draft) == 0  # the worker stopped at its next progress report and rolled back
