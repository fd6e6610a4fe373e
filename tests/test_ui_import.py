"""The Import tab and the Frames tab's Export menu (issue 14, item 6). Server side with Django's test client:
who is offered the tab, who may open the page, what a published version says. In Debian's Chromium with a real
Celery worker: a JSON-lines upload checked (frames and labels counted) and imported (the API counts the
frames), a file with a bad line (the problem with its file and line, nothing imported), a refused request
(the message beside its field), and the Export menu's JSON lines of a filtered view (as many frames as the API
counts). Screenshots at 1440 and 390 px go to /tmp/shots-14/import/ (or $HYPERDATA_SCREENSHOTS)."""
from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect
from pycocotools.coco import COCO

from frames import services
from frames.models import Job

from .clients import api_client
from .conftest import TESTDATA_DIR
from .pages import html as page_html

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


# -- server side ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_import_tab_is_offered_on_drafts_to_annotators_and_owners_only(people):
    users, draft = people
    for name, offered in (("olga", True), ("annie", True), ("vic", False)):
        html = page_html(client_of(users[name]).get(reverse("viewer:version", args=[draft.pk])))
        assert ('id="tab-import"' in html) is offered, name
    published, _ = published_child(users["olga"], draft)
    for name in ("olga", "annie", "vic"):
        html = page_html(client_of(users[name]).get(reverse("viewer:version-info", args=[published.pk])))
        assert 'id="tab-import"' not in html, name


@pytest.mark.django_db
def test_the_import_page_is_refused_to_viewers_and_explains_a_published_version(people):
    users, draft = people
    url = reverse("viewer:version-import", args=[draft.pk])
    refused = client_of(users["vic"]).get(url)
    assert refused.status_code == 403 and "Only annotators and owners" in refused.content.decode()
    page = client_of(users["annie"]).get(url)
    html = page.content.decode()
    assert page.status_code == 200 and 'id="import-form"' in html and 'aria-current="page" data-tab="import"' in html
    assert [f'value="{name}"' in html for name in services.import_formats()] == [True] * len(services.import_formats())

    published, _ = published_child(users["olga"], draft)
    for name, offers_child in (("annie", False), ("olga", True)):
        html = client_of(users[name]).get(reverse("viewer:version-import", args=[published.pk])).content.decode()
        assert "Nothing can be imported into a published version" in html and 'id="import-form"' not in html
        assert ('id="import-new-child"' in html) is offers_child


@pytest.mark.django_db
def test_the_export_menu_carries_the_filter_to_every_format(people):
    users, draft = people
    html = page_html(client_of(users["vic"]).get(reverse("viewer:version", args=[draft.pk]), {"label": "car", "frame_query": "meta.speed:[1 TO 5]"}))
    for format_name in ("clearml", "jsonl", "coco"):
        link = re.search(rf'id="fb-export-{format_name}" href="([^"]+)"', html).group(1).replace("&amp;", "&")
        assert "label=car" in link and "frame_query=meta.speed" in link and link.endswith(f"format={format_name}")


# -- in Chromium, with a real worker ---------------------------------------------------------------------------


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


@pytest.mark.django_db(transaction=True)
def test_a_json_lines_upload_is_checked_then_imported(page, live_server, celery_worker_process, people, tmp_path):
    users, draft = people
    frames = make_frames(24)
    upload = write_lines(tmp_path / "streets.jsonl", frames)
    sign_in(page, live_server, users["annie"])
    page.goto(reverse("viewer:version", args=[draft.pk]))
    page.click("#tab-import")
    page.wait_for_url(re.compile(r"/import/$"))
    shot(page, "01-empty-1440")
    page.check('input[name=format][value="clearml"]')
    page.set_input_files("#import-file", str(upload))
    expect(page.locator("#import-run")).to_be_disabled()

    page.click("#import-check")
    expect(page.locator("#import-state")).to_have_text("Done", timeout=WAIT_MS)
    expect(page.locator("#import-card-frames .card-value")).to_have_text("24")
    expect(page.locator("#import-card-problems .card-value")).to_have_text("0")
    assert report_labels(page) == label_counts(frames)
    expect(page.locator("#import-run")).to_have_text("Import 24 frames")
    assert api_count(users["annie"], draft) == 0  # a check writes nothing
    shot(page, "02-checked-1440")

    page.click("#import-run")
    expect(page.locator("#import-state")).to_have_text("Done", timeout=WAIT_MS)
    expect(page.locator("#import-outcome")).to_contain_text("Imported 24 frames")
    expect(page.locator("#import-count")).to_have_text("24 / 24")
    expect(page.locator("#import-bar")).to_have_attribute("aria-valuenow", "100")
    assert api_count(users["annie"], draft) == 24
    shot(page, "03-imported-1440")
    shot(page, "04-imported-390", width=390)
    page.click("#import-frames-link")
    page.wait_for_url(re.compile(rf"/versions/{draft.pk}/$"))
    expect(page.locator("#fb-count [data-count-value]")).to_have_attribute("data-count-value", "24")


@pytest.mark.django_db(transaction=True)
def test_a_bad_line_is_shown_with_its_file_and_line_and_nothing_is_imported(page, live_server, celery_worker_process, people, tmp_path):
    users, draft = people
    upload = write_lines(tmp_path / "with-a-bad-line.jsonl", make_frames(9), bad_line=7)
    sign_in(page, live_server, users["olga"], width=390)
    page.goto(reverse("viewer:version-import", args=[draft.pk]))
    page.set_input_files("#import-file", str(upload))
    page.click("#import-check")
    expect(page.locator("#import-state")).to_have_text("Done", timeout=WAIT_MS)
    expect(page.locator("#import-outcome")).to_contain_text("1 problem")
    cells = page.locator("#import-problems tbody tr").first.locator("td")
    assert [cells.nth(i).inner_text() for i in range(2)] == ["with-a-bad-line.jsonl", "7"]
    assert "sources" in cells.nth(3).inner_text() + cells.nth(4).inner_text()
    expect(page.locator("#import-card-frames .card-value")).to_have_text("8")
    expect(page.locator("#import-run")).to_be_disabled()
    shot(page, "05-problems-390")
    shot(page, "06-problems-1440", width=1440)
    assert api_count(users["olga"], draft) == 0


@pytest.mark.django_db(transaction=True)
def test_a_refused_request_names_the_field_beside_it(page, live_server, people, tmp_path):
    users, draft = people
    sign_in(page, live_server, users["annie"])
    page.goto(reverse("viewer:version-import", args=[draft.pk]))
    expect(page.locator("#import-lenient")).to_be_hidden()
    page.check('input[name=format][value="lightly"]')
    expect(page.locator("#import-lenient")).to_be_visible()
    expect(page.locator("#import-file")).to_have_attribute("accept", ".zip")
    page.check('input[name=mode][value="server"]')
    page.fill("#import-path", "/etc/passwd")
    page.click("#import-check")
    expect(page.locator('[data-error-for="path"]')).to_contain_text("HYPERDATA_MEDIA_ROOTS")
    expect(page.locator("#import-path")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#import-progress")).to_be_hidden()
    page.fill("#import-path", str(tmp_path))
    page.fill("#import-options", "[1, 2]")
    page.click("#import-check")
    expect(page.locator('[data-error-for="options"]')).to_contain_text("JSON object")
    expect(page.locator('[data-error-for="path"]')).to_be_hidden()
    shot(page, "07-refused-1440")
    page.check('input[name=mode][value="upload"]')
    page.fill("#import-options", "")
    page.click("#import-check")
    expect(page.locator('[data-error-for="file"]')).to_contain_text("give a file to upload")
    assert not Job.objects.filter(kind="import").exists()


@pytest.mark.django_db(transaction=True)
def test_the_import_tab_is_absent_for_a_viewer_and_on_a_published_version(page, live_server, people):
    users, draft = people
    sign_in(page, live_server, users["vic"])
    page.goto(reverse("viewer:version", args=[draft.pk]))
    expect(page.locator('.tabs [data-tab="frames"]')).to_be_visible()
    expect(page.locator("#tab-import")).to_have_count(0)
    published, _ = published_child(users["olga"], draft)
    sign_in(page, live_server, users["olga"])
    page.goto(reverse("viewer:version", args=[published.pk]))
    expect(page.locator('.tabs [data-tab="frames"]')).to_be_visible()
    expect(page.locator("#tab-import")).to_have_count(0)
    page.goto(reverse("viewer:version-import", args=[published.pk]))
    expect(page.locator("#import-refused")).to_contain_text("Nothing can be imported into a published version")
    shot(page, "08-published-1440")


@pytest.mark.django_db(transaction=True)
def test_the_export_menu_downloads_json_lines_of_the_filtered_view(page, live_server, people):
    users, draft = people
    services.frames_add(user=users["olga"], version=draft, frames=make_frames(30))
    sign_in(page, live_server, users["vic"])
    page.goto(reverse("viewer:version", args=[draft.pk]) + "?label=bike&frame_query=meta.speed:[0 TO 20]")
    expected = api_count(users["vic"], draft, label="bike", frame_query="meta.speed:[0 TO 20]")
    assert 0 < expected < 30
    page.click("#fb-export-menu summary")
    shot(page, "09-export-menu-1440")
    with page.expect_download() as download_info:
        page.click("#fb-export-jsonl")
    download = download_info.value
    assert download.suggested_filename.endswith(".jsonl")
    lines = [json.loads(line) for line in Path(download.path()).read_text().splitlines() if line.strip()]
    assert len(lines) == expected
    assert all(any("bike" in roi["labels"] for roi in frame["rois"]) and frame["meta"]["speed"] <= 20 for frame in lines)

    with page.expect_download() as download_info:  # the menu is still open
        page.click("#fb-export-coco")
    coco = json.loads(Path(download_info.value.path()).read_text())
    assert len(coco["images"]) == expected
    assert {c["name"] for c in coco["categories"]} >= {"bike"}
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.click("#fb-export-menu summary")
    expect(page.locator("#fb-export-jsonl")).to_be_in_viewport()
    shot(page, "15-export-menu-390")


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
    moving = r"^[1-9][\d,]* / 60,000$" if connection.vendor == "postgresql" else r"^[\d,]+ / 60,000$"
    expect(page.locator("#import-count")).to_have_text(re.compile(moving), timeout=WAIT_MS)
    shot(page, "12-importing-1440")
    expect(page.locator("#import-outcome")).to_contain_text("Imported 60,000 frames", timeout=WAIT_MS * 2)
    seen = [text for text in page.evaluate("window.seenCounts") if text.endswith("/ 60,000")]
    done = [int(text.split(" / ")[0].replace(",", "")) for text in seen]
    assert done[-1] == total and done == sorted(done), seen
    if connection.vendor == "postgresql":  # SQLite has one writer, the import's transaction: no progress till the end
        assert any(0 < d < total for d in done), seen
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
