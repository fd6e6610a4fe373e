"""The Statistics tab's charts (issue 13, item 6), in Debian's Chromium: per-label doughnuts and bars with counts
and percentages, ROI confidence stacked by label, a numeric ROI metadata histogram and a frame metadata one, all
under the Frames tab's filter; PNG and CSV downloads carrying the same numbers; bad parameters 400 naming the
field. Screenshots go to /tmp/shots-13/statistics/ (or $HYPERDATA_SCREENSHOTS)."""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from django.urls import reverse
from PIL import Image

from frames import services
from frames.selectors import SYSTEM as ACTOR
from frames.selectors import stats as stat_selectors
from viewer.tiles import label_colour

SHOTS = Path(os.environ.get("HYPERDATA_SCREENSHOTS") or "/tmp/shots-13/statistics")
LABELS = ["car", "person", "truck", "car", "bike"]


def make_frames(n=40):
    frames = []
    for i in range(n):
        rois = [{"labels": [LABELS[i % 5]], "poly": [0, 0, 9, 0, 9, 9], "confidence": round((i % 10) / 10 + 0.05, 2),
                 "meta": {"area": (i * 7) % 50}}]
        if i % 4 == 0:
            rois.append({"labels": ["night" if i % 8 else "day"]})
        frames.append({"id": f"f{i:03d}", "sources": [{"uri": f"s3://b/{i}.jpg"}], "rois": rois,
                       "meta": {"speed": i % 30, "weather": ["sunny", "rain", "fog"][i % 3]}})
    return frames


def make_version():
    version = services.dataset_create(user=ACTOR, name="stats-charts").versions.get()
    services.frames_add(user=ACTOR, version=version, frames=make_frames())
    return version


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def read_csv(download) -> list[list[str]]:
    return list(csv.reader(io.StringIO(Path(download.path()).read_text())))


# ------------------------------------------------------------------------------------------------ server side


@pytest.mark.django_db
@pytest.mark.parametrize("path, query, field", [
    ("version-stats-labels", "filters=not-json", "filters"),
    ("version-stats-meta", "key=speed&bins=0", "bins"),
    ("version-stats-meta", "key=speed&bins=abc", "bins"),
    ("version-stats-meta", "key=rois.shape", "key"),
    ("version-stats-meta", "key=a..b", "key"),
    ("version-stats-meta", "", "key"),
    ("version-stats", "bins=999", "bins"),
    ("version-stats", "filters=[1]", "filters"),
])
def test_bad_parameters_are_refused_naming_the_field(admin_client, path, query, field):
    version = make_version()
    response = admin_client.get(reverse(f"viewer:{path}", args=[version.pk]) + "?" + query)
    assert response.status_code == 400, response.content[:300]
    assert f'data-error-for="{field}' in response.content.decode()


@pytest.mark.django_db
def test_the_chart_numbers_are_the_statistics(admin_client):
    version = make_version()
    body = admin_client.get(reverse("viewer:version-stats-labels", args=[version.pk]), {"label": "car"}).content.decode()
    assert 'id="chart-roi-labels-data"' in body and 'id="chart-frame-labels-data"' in body
    assert '"labels": ["car"]' in body  # under the filter `car`: the car frames' ROI labels only
    assert '"percent": [100.0]' in body


# ---------------------------------------------------------------------------------------------- in Chromium


@pytest.fixture
def ui_page(logged_in_page):
    logged_in_page.set_default_timeout(30_000)
    logged_in_page.set_viewport_size({"width": 1440, "height": 900})
    return logged_in_page


def wait_drawn(page, *chart_ids):
    for chart_id in chart_ids:
        page.wait_for_selector(f'figure[data-chart="{chart_id}"][data-drawn="true"]')


def canvas_pixels(page, chart_id) -> Image.Image:
    return Image.open(io.BytesIO(page.locator(f"#{chart_id}").screenshot())).convert("RGB")


def has_colour(image: Image.Image, hex_colour: str, tolerance=30) -> bool:
    target = tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return any(sum(abs(a - b) for a, b in zip(pixel, target)) <= tolerance for _, pixel in image.getcolors(maxcolors=1 << 24))


def test_charts_draw_in_label_colours_and_export_png_and_csv(ui_page, live_server):
    version = make_version()
    page = ui_page
    page.goto(reverse("viewer:version-stats", args=[version.pk]))
    wait_drawn(page, "chart-roi-labels", "chart-roi-frames", "chart-frame-labels", "chart-confidence", "chart-meta")
    page.wait_for_timeout(200)
    shot(page, "stats-all-frames")
    doughnut = canvas_pixels(page, "chart-roi-labels")
    for label in ("car", "person", "truck", "bike"):
        assert has_colour(doughnut, label_colour(label)), label  # each label in its chip colour
    assert has_colour(canvas_pixels(page, "chart-confidence"), label_colour("car"))

    stats = stat_selectors.label_stats(user=ACTOR, version=version)
    with page.expect_download() as info:
        page.locator('figure[data-chart="chart-roi-labels"] [data-export="csv"]').click()
    rows = read_csv(info.value)
    assert info.value.suggested_filename == "stats-charts-current-roi-labels.csv"
    assert rows[0] == ["label", "annotations", "% of annotations", "frames", "% of frames"]
    expected = {e["label"]: e for e in stats["labels"] if e["roi_count"]}
    assert {r[0]: (int(r[1]), int(r[3])) for r in rows[1:]} == {k: (e["roi_count"], e["frame_count"]) for k, e in expected.items()}
    assert float(rows[1][2]) == round(100 * int(rows[1][1]) / sum(int(r[1]) for r in rows[1:]), 2)

    with page.expect_download() as info:
        page.locator('figure[data-chart="chart-confidence"] [data-export="png"]').click()
    assert info.value.suggested_filename == "stats-charts-current-rois-confidence.png"
    png = Image.open(info.value.path())
    assert png.format == "PNG" and png.width > 300 and png.height > 150
    assert png.convert("RGB").getpixel((2, 2)) == (255, 255, 255)  # a white background, not transparent
    assert has_colour(png.convert("RGB"), label_colour("person"))

    with page.expect_download() as info:
        page.locator('figure[data-chart="chart-confidence"] [data-export="csv"]').click()
    rows = read_csv(info.value)
    assert rows[0][:2] == ["from", "to"] and rows[0][-1] == "ROI labels"
    assert sum(int(r[-1]) for r in rows[1:]) == 40  # the 40 shapes' confidences (the frame labels carry none)


def test_charts_follow_the_filter_and_the_roi_metadata_key(ui_page, live_server):
    version = make_version()
    page = ui_page
    page.goto(reverse("viewer:version-stats", args=[version.pk]) + "?label=car&key=rois.meta.area&bins=5")
    wait_drawn(page, "chart-roi-labels", "chart-confidence", "chart-meta")
    page.wait_for_timeout(200)
    shot(page, "stats-filter-car-roi-area")
    assert page.locator("#stats-filter").is_visible()
    assert page.locator("#stat-frames").inner_text() == "16"  # 2 of every 5 frames have a car
    one_slice = canvas_pixels(page, "chart-roi-labels")
    assert has_colour(one_slice, label_colour("car")) and not has_colour(one_slice, "#000000", tolerance=40)  # its swatch too
    with page.expect_download() as info:
        page.locator('figure[data-chart="chart-meta"] [data-export="csv"]').click()
    rows = read_csv(info.value)
    assert rows[0] == ["from", "to", "ROIs"]
    assert sum(int(r[2]) for r in rows[1:]) == 16 and len(rows) == 6
    with page.expect_download() as info:
        page.locator('figure[data-chart="chart-roi-frames"] [data-export="csv"]').click()
    assert read_csv(info.value)[1:] == [["car", "16", "100"]]  # the numbers as JSON carries them

    page.goto(reverse("viewer:version-stats", args=[version.pk]) + "?key=weather")
    wait_drawn(page, "chart-meta")
    shot(page, "stats-weather-categories")
    with page.expect_download() as info:
        page.locator('figure[data-chart="chart-meta"] [data-export="csv"]').click()
    assert sorted(read_csv(info.value)[1:]) == [["fog", "13", "32.5"], ["rain", "13", "32.5"], ["sunny", "14", "35"]]
