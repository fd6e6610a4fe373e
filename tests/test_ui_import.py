"""The Import tab and the Frames tab's Export menu (issue 14, item 6). Server side with Django's test client:
who is offered the tab, who may open the page, what a published version says. In Debian's Chromium with a real
Celery worker: a JSON-lines upload checked (frames and labels counted) and imported (the API counts the
frames), a file with a bad line (the problem with its file and line, nothing imported), refused requests (the
message beside its field), a server file that went bad between check and import (the failed run's problems),
and the Export menu's downloads of a filtered view (as many frames as the API counts). The formats' own
inputs are in tests/test_ui_import_formats.py. Screenshots at 1440 and 390 px: /tmp/shots-14/import/."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from frames import services
from frames.models import Job

from .import_pages import (WAIT_MS, api_count, client_of, coco_files, label_counts, make_frames, people, published_child,
                           report_labels, shot, sign_in, write_lines)
from .pages import html as page_html

__all__ = ["coco_files", "people"]  # fixtures


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

    expect(page.locator("#fb-export-menu")).not_to_have_attribute("open", "")  # closed once a format is chosen
    page.click("#fb-export-menu summary")
    page.mouse.click(5, 800)  # a click elsewhere closes it too
    expect(page.locator("#fb-export-menu")).not_to_have_attribute("open", "")
    page.click("#fb-export-menu summary")
    with page.expect_download() as download_info:
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
def test_a_server_file_that_went_bad_after_its_check_fails_and_shows_its_problems(page, live_server, celery_worker_process, people, media_roots):
    users, draft = people
    server_file = media_roots / f"ui-import-{draft.pk}.jsonl"  # inside HYPERDATA_MEDIA_ROOTS
    frames = make_frames(12)
    write_lines(server_file, frames)
    sign_in(page, live_server, users["annie"])
    page.goto(reverse("viewer:version-import", args=[draft.pk]))
    page.check('input[name=mode][value="server"]')
    page.fill("#import-path", str(server_file))
    page.click("#import-check")
    expect(page.locator("#import-run")).to_have_text("Import 12 frames", timeout=WAIT_MS)

    write_lines(server_file, frames, bad_line=5)  # changed on the server between the check and the import
    page.click("#import-run")
    expect(page.locator("#import-state")).to_have_text("Failed", timeout=WAIT_MS)
    expect(page.locator("#import-outcome")).to_contain_text("1 problem: nothing was imported")
    expect(page.locator("#import-card-frames .card-sub")).to_have_text("none imported")
    cells = page.locator("#import-problems tbody tr").first.locator("td")
    assert [cells.nth(i).inner_text() for i in range(2)] == [server_file.name, "5"]
    expect(page.locator("#import-run")).to_be_disabled()  # check again first
    shot(page, "16-failed-run-1440")
    assert api_count(users["annie"], draft) == 0
