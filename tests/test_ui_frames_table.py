"""The Frames table (issue 13, item 3): headers sort (server side, through the frame query's sort and order,
keyset paging intact), the first source's width and height are sorts of the API and of the table, the Columns
chooser stays reachable however far the table is scrolled, and the default columns fit 1440 px without a
horizontal scroll bar. Browser parts run in Debian's Chromium; screenshots go to /tmp/shots-13/frames-tab/.
"""
from __future__ import annotations

import io
import os
import re
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from django.urls import reverse
from PIL import Image
from playwright.sync_api import expect

from frames import services
from frames.models import DatasetVersion
from frames.selectors import SYSTEM as ACTOR

from .clients import api_client
from .pages import html as page_html

SHOTS = Path(os.environ.get("HYPERDATA_SCREENSHOTS") or "/tmp/shots-13/frames-tab")
FRAMES = 45
SIZES = [(1920, 1080), (640, 480), (4000, 3000), (320, 240), (1280, 720), None, (640, 360), (1024, 1024), (800, 1200)]
META = ["speed", "city", "weather", "lane", "driver", "camera", "model", "score"]  # 8: the most columns shown


def frame(i: int) -> dict:
    size = SIZES[i % len(SIZES)]
    source = {"id": "default", "uri": f"s3://table-bucket/drives/2024-05-1{i % 10}/camera-front/{i:05d}.jpg",
              "content_type": "image/jpeg", "preview": {"uri": "/media/previews/tb/p.png"}}
    if size:
        source["width"], source["height"] = size
    # Frame ids as long as a UUID: the id column has to fit them at 1440 px too.
    return {"id": f"{i:02d}-3f1c2a7e-9b4d-4e8a-a6f0-{i:012d}", "context_id": f"s3://table-bucket/drives/2024-05-1{i % 10}/camera-front.mp4",
            "timestamp": 1000 * (i % 7), "sources": [source],
            "rois": [{"labels": ["car"], "poly": [10, 10, 50, 10, 50, 40, 10, 40]}, {"labels": ["sunny" if i % 2 else "rain"]}],
            "meta": {key: f"{key}-{i % 5}" if key != "speed" else (i * 7) % 90 for key in META}}


@pytest.fixture
def table_media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.HYPERDATA_PREVIEWS_AUTO = False
    (tmp_path / "previews" / "tb").mkdir(parents=True)
    out = io.BytesIO()
    Image.new("RGB", (160, 120), (80, 96, 120)).save(out, "PNG")
    (tmp_path / "previews" / "tb" / "p.png").write_bytes(out.getvalue())
    return tmp_path


def make_version() -> DatasetVersion:
    dataset = services.dataset_create(user=ACTOR, name="table", description="Frames table")
    version = dataset.versions.get()
    services.frames_add(user=ACTOR, version=version, frames=[frame(i) for i in range(FRAMES)])
    return DatasetVersion.objects.get(pk=version.pk)


def expected(key: str | None, descending: bool) -> list[str]:
    """The ids in the order of a sort on the first source's `key` (width/height) or on the id: frames without
    the value last in either direction, ties (and the tail) by id in the same direction."""
    data = [frame(i) for i in range(FRAMES)]
    if key is None:
        return sorted((f["id"] for f in data), reverse=descending)
    having = sorted(((f["sources"][0][key], f["id"]) for f in data if key in f["sources"][0]), reverse=descending)
    missing = sorted((f["id"] for f in data if key not in f["sources"][0]), reverse=descending)
    return [i for _, i in having] + missing


def api_walk(api, version_id: str, params: dict) -> list[str]:
    url, ids = f"/api/versions/{version_id}/frames/?{urlencode({**params, 'limit': 8})}", []
    while url:
        body = api.get(url).json()
        ids += [f["id"] for f in body["results"]]
        url = body["next"]
    return ids


# ------------------------------------------------------------------------------------------------ server side


@pytest.mark.django_db
def test_width_and_height_are_sorts_of_the_api(admin_user, table_media):
    version = make_version()
    api = api_client(admin_user)
    for key in ("width", "height"):
        for order in ("asc", "desc"):
            assert api_walk(api, version.pk, {"sort": key, "order": order}) == expected(key, order == "desc"), (key, order)
    for bad in ("size", "meta.", "width,height", "WIDTH"):
        response = api.get(f"/api/versions/{version.pk}/frames/", {"sort": bad})
        assert response.status_code == 400, bad
        [error] = response.json()["errors"]
        assert error["field"] == "sort" and "width" in error["message"] and "height" in error["message"], error


@pytest.mark.django_db
@pytest.mark.parametrize("sort,order", [("width", "asc"), ("height", "desc"), ("width", "desc")])
def test_table_pages_walk_every_frame_once_in_a_size_order(admin_client, table_media, sort, order):
    version = make_version()
    url = reverse("viewer:version", args=[version.pk]) + "?" + urlencode({"view": "table", "sort": sort, "order": order, "limit": 7})
    pages = []
    while url:
        html = page_html(admin_client.get(url))
        pages.append(re.findall(r'<tr data-frame-id="([^"]+)"', html))
        match = re.search(r'href="([^"]+)" data-pager="next"', html)
        url = match.group(1).replace("&amp;", "&") if match else None
    assert [i for page in pages for i in page] == expected(sort, order == "desc")
    for want in reversed(pages[:-1]):  # and back, page by page, through the frames without a size
        match = re.search(r'href="([^"]+)" data-pager="previous"', html)
        html = page_html(admin_client.get(match.group(1).replace("&amp;", "&")))
        assert re.findall(r'<tr data-frame-id="([^"]+)"', html) == want
    # The header says which column sorts, which way, and links to the reverse.
    assert re.search(rf'<th class="fb-th-sort num on" aria-sort="{order}ending" data-sort="{sort}">', html)


# ---------------------------------------------------------------------------------------------- in Chromium


@pytest.fixture
def wide_page(logged_in_page):
    logged_in_page.set_default_timeout(30_000)
    logged_in_page.set_viewport_size({"width": 1440, "height": 900})
    return logged_in_page


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"table-{name}.png"))


def row_ids(page) -> list[str]:
    return page.locator("#fb-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.frameId)")


def reachable(page, selector: str) -> bool:
    """Whether the element is on screen, below the fixed top bar, and what a click there would hit."""
    return page.locator(selector).evaluate("""el => {
        const r = el.getBoundingClientRect();
        const x = r.x + r.width / 2, y = r.y + r.height / 2;
        const top = document.querySelector('.topbar, header')?.getBoundingClientRect().bottom || 0;
        return r.width > 0 && y > top && y < innerHeight && x > 0 && x < innerWidth && el.contains(document.elementFromPoint(x, y));
    }""")


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("""() => document.documentElement.scrollWidth <= document.documentElement.clientWidth
        && document.getElementById('fb-table').getBoundingClientRect().right <= document.getElementById('fb-table-wrap').getBoundingClientRect().right + 1""")


@pytest.mark.django_db(transaction=True)
def test_header_clicks_sort_the_table_like_the_api(wide_page, live_server, admin_user, table_media):
    page = wide_page
    version = make_version()
    api = api_client(admin_user)
    page.goto(f"/versions/{version.pk}/?view=table&limit=20")
    expect(page.locator("#fb-table tbody tr")).to_have_count(20)
    assert no_horizontal_scroll(page)  # the default columns fit 1440 px, long ids and contexts included
    shot(page, "01-default")

    for header, sort, order in [("Width", "width", "asc"), ("Width", "width", "desc"), ("Height", "height", "asc"), ("Frame id", "id", "asc"), ("Frame id", "id", "desc")]:
        page.locator("#fb-table thead th", has_text=header).locator("a").click()
        page.wait_for_url(re.compile(rf"sort={sort}" + (r".*order=desc" if order == "desc" else r"(?!.*order=desc)")))
        query = parse_qs(urlparse(page.url).query)
        assert query["sort"] == [sort] and query.get("order", ["asc"]) == [order] and "cursor" not in query
        th = page.locator(f'#fb-table th[data-sort="{sort}"]')
        expect(th).to_have_attribute("aria-sort", f"{order}ending")
        expect(th.locator(".fb-sort-arrow")).to_have_text("▼" if order == "desc" else "▲")
        assert row_ids(page) == api_walk(api, version.pk, {"sort": sort, "order": order})[:20], (sort, order)
        if sort == "width" and order == "desc":
            shot(page, "02-width-desc")
    # The next page continues the same order.
    page.locator('[data-pager="next"]').first.click()
    page.wait_for_url(re.compile(r"cursor="))
    assert row_ids(page) == expected(None, True)[20:40]

    # A metadata column's header sorts by that key.
    page.goto(f"/versions/{version.pk}/?view=table&limit=20&cols=speed")
    page.locator('#fb-table th[data-sort="meta.speed"] a').click()
    page.wait_for_url(re.compile(r"sort=meta.speed"))
    assert row_ids(page) == api_walk(api, version.pk, {"sort": "meta.speed"})[:20]
    expect(page.locator('#fb-table th[data-sort="meta.speed"]')).to_have_attribute("aria-sort", "ascending")


@pytest.mark.django_db(transaction=True)
def test_the_columns_chooser_stays_reachable(wide_page, live_server, table_media):
    page = wide_page
    version = make_version()
    page.goto(f"/versions/{version.pk}/?view=table")
    expect(page.locator("#fb-table tbody tr")).to_have_count(FRAMES)
    expect(page.locator("#fb-table-wrap")).to_have_class(re.compile("fb-table-sticky"))
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_function("window.scrollY > 1000")
    assert reachable(page, "#fb-cols summary")  # the header stuck to the top of the window
    shot(page, "03-scrolled-header")
    page.click("#fb-cols summary")
    for key in META:
        page.check(f'#fb-cols input[value="{key}"]')
    shot(page, "04-columns-menu")
    page.click("#fb-cols-apply")
    page.wait_for_url(re.compile(r"cols="))
    expect(page.locator("#fb-table th.fb-meta-col")).to_have_count(len(META))

    # Eight metadata columns are wider than the page: the table scrolls in its own box, the page does not.
    expect(page.locator("#fb-table-wrap")).to_have_class(re.compile("fb-table-boxed"))
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.locator("#fb-table-wrap").evaluate("box => { box.scrollTop = box.scrollHeight; box.scrollLeft = 0; }")
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")  # the page's end: all the box shows
    assert reachable(page, "#fb-cols summary")  # at the box's top right, whatever is scrolled
    page.locator("#fb-table-wrap").evaluate("box => { box.scrollLeft = box.scrollWidth; }")
    assert reachable(page, "#fb-cols summary")
    shot(page, "05-boxed-scrolled")
    page.click("#fb-cols summary")
    expect(page.locator("#fb-cols-apply")).to_be_visible()
