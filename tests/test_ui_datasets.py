"""Dataset list, dataset page (version tree) and the version tabs Statistics, Metadata and Info: server side
with Django's test client, and end to end in Debian's Chromium (Playwright) with a screenshot of every page
in test-artifacts/screenshots/."""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from playwright.sync_api import expect

from frames import selectors, services
from frames.selectors import SYSTEM as ACTOR
from frames.services import stats_keys
from frames.exceptions import ServiceError
from frames.models import Dataset, DatasetVersion

from .pages import html as page_html

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
WEATHER = ["sunny", "rain", "fog"]


def street_frame(i: int) -> dict:
    """Frame i: a car on odd frames, two persons on every third, one frame label (weather), speed and city."""
    rois = []
    if i % 2:
        rois.append({"labels": ["car"], "poly": [10, 10, 60, 10, 60, 40, 10, 40], "confidence": 0.9})
    if i % 3 == 0:
        rois += [{"labels": ["person"], "poly": [1, 1, 5, 1, 5, 9]}, {"labels": ["person"], "poly": [20, 1, 25, 1, 25, 9]}]
    if i % 4 != 3:  # every fourth frame has no frame label
        rois.append({"labels": [WEATHER[i % 3]]})
    return {
        "id": f"frame-{i:03d}",
        "context_id": f"drive-{i // 10}",
        "timestamp": (i % 10) * 100,
        "sources": [{"id": "default", "uri": f"https://example.com/drive/{i}.jpg", "width": 64, "height": 48}],
        "rois": rois,
        "meta": {"speed": (i * 7) % 120, "weather": WEATHER[i % 3], "city": ["Berlin", "Paris"][i % 2]},
    }


def expected_label_counts(frames):
    """From the frame JSON itself: label -> (annotations, frames carrying it), for ROIs and frame labels."""
    roi_n, roi_f, fl_n, fl_f = Counter(), Counter(), Counter(), Counter()
    for frame in frames:
        seen_roi, seen_fl = set(), set()
        for roi in frame["rois"]:
            frame_label = "poly" not in roi
            for label in roi["labels"]:
                (fl_n if frame_label else roi_n)[label] += 1
                (seen_fl if frame_label else seen_roi).add(label)
        roi_f.update(seen_roi)
        fl_f.update(seen_fl)
    return roi_n, roi_f, fl_n, fl_f


def make_dataset(name="street-scenes", frames=36, publish=True, **kwargs):
    dataset = services.dataset_create(user=ACTOR, name=name, description="Street scenes, for the UI tests", **kwargs)
    version = dataset.versions.get()
    data = [street_frame(i) for i in range(frames)]
    services.frames_add(user=ACTOR, version=version, frames=data)
    services.version_update(user=ACTOR, version=version, metadata={"mask_labels": {"_all_": [
        {"value": [0, 0, 142], "labels": ["car"]}, {"value": [220, 20, 60], "labels": ["person"]}]}})
    if publish:
        version = services.version_publish(user=ACTOR, version=version, name="v1")
    return dataset, DatasetVersion.objects.get(pk=version.pk), data


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


# ------------------------------------------------------------------------------------------ server side


@pytest.mark.django_db
def test_every_page_renders(admin_client):
    dataset, published, _ = make_dataset()
    _, draft = services.version_snapshot(user=ACTOR, version=services.version_create(user=ACTOR, parent=published, name="v2"))
    urls = ["/", "/?q=street", "/datasets/new/", f"/datasets/{dataset.pk}/", f"/datasets/{dataset.pk}/?view=list",
            f"/datasets/{dataset.pk}/edit/", f"/datasets/{dataset.pk}/delete/"]
    for v in (published, draft):
        urls += [f"/versions/{v.pk}/{tab}" for tab in ("", "stats/", "stats/?key=speed", "stats/?key=weather&label=car",
                                                         "stats/meta/?key=city", "metadata/", "info/", "edit/", "child/",
                                                         "publish/", "snapshot/", "delete/")]
    for url in urls:
        response = admin_client.get(url)
        assert response.status_code == 200, (url, page_html(response)[:300])


@pytest.mark.django_db
def test_dataset_list_searches_by_name_id_and_tag(admin_client):
    alpha = services.dataset_create(user=ACTOR, name="alpha-roads", tags=["street", "night"], description="first")
    services.dataset_create(user=ACTOR, name="beta-fields", tags=["farm"])

    def names(query):
        html = admin_client.get("/", {"q": query}).content.decode()
        return re.findall(r'class="strong dataset-link" href="[^"]+">([^<]+)<', html)

    assert names("") == ["alpha-roads", "beta-fields"]
    assert names("beta") == ["beta-fields"]
    assert names("night") == ["alpha-roads"]
    assert names(alpha.pk) == ["alpha-roads"]
    assert names("nothing-like-this") == []
    html = admin_client.get("/").content.decode()
    row = html[html.index("alpha-roads"):]
    row = row[: row.index("</tr>")]
    assert ">street</a>" in row and ">night</a>" in row and ">Current</a>" in row and "first" in row


@pytest.mark.django_db
def test_create_and_edit_dataset_errors_come_back_inline_and_change_nothing(admin_client):
    existing = services.dataset_create(user=ACTOR, name="taken", metadata={"keep": 1})
    response = admin_client.post("/datasets/new/", {"name": "taken", "tags": "a, b", "metadata": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r'id="id_name".*?class="field-error"[^>]*>a dataset named (?:&#x27;)taken(?:&#x27;) already exists', html, re.S)
    assert Dataset.objects.count() == 1

    response = admin_client.post(f"/datasets/{existing.pk}/edit/", {"name": "renamed", "tags": "x", "metadata": '{"keep": 2'})
    assert response.status_code == 400
    assert re.search(r'id="id_metadata".*?class="field-error"[^>]*>not valid JSON', response.content.decode(), re.S)
    existing.refresh_from_db()
    assert (existing.name, existing.tags, existing.metadata) == ("taken", [], {"keep": 1})

    response = admin_client.post(f"/datasets/{existing.pk}/edit/", {"name": "renamed", "tags": "x, y ,x", "description": "d", "metadata": '{"keep": 2}'})
    assert response.status_code == 302
    existing.refresh_from_db()
    assert (existing.name, existing.tags, existing.metadata, existing.description) == ("renamed", ["x", "y"], {"keep": 2}, "d")

    # Asked for by the dialog (X-Dialog), success is JSON and a refusal is the form alone.
    response = admin_client.post("/datasets/new/", {"name": " "}, HTTP_X_DIALOG="1")
    assert response.status_code == 400 and b"<html" not in response.content and b"field-error" in response.content
    response = admin_client.post("/datasets/new/", {"name": "fresh"}, HTTP_X_DIALOG="1")
    fresh = Dataset.objects.get(name="fresh")
    assert response.json() == {"redirect": f"/datasets/{fresh.pk}/"}
    assert [v.name for v in fresh.versions.all()] == ["Current"]


@pytest.mark.django_db
def test_actions_follow_the_version_rules(admin_client):
    dataset, published, _ = make_dataset()
    draft = services.version_create(user=ACTOR, parent=published, name="work")

    def actions(version):
        html = page_html(admin_client.get(f"/versions/{version.pk}/"))
        header = html[html.index('class="vh-actions"'):html.index('class="tabs"')]
        enabled = set(re.findall(r'<a [^>]*data-action="(\w+)"', header))
        disabled = dict(re.findall(r'<span [^>]*aria-disabled="true" title="([^"]+)" data-action="(\w+)"', header))
        return enabled, {v: k for k, v in disabled.items()}

    enabled, disabled = actions(published)
    assert enabled == {"child", "edit"}
    assert set(disabled) == {"snapshot", "publish", "delete"}
    assert "only drafts" in disabled["delete"]
    enabled, disabled = actions(draft)
    assert enabled == {"snapshot", "publish", "edit", "delete"}
    assert set(disabled) == {"child"} and "Publish this draft first" in disabled["child"]

    # The services refuse what the buttons do not offer, and the answer says why.
    response = admin_client.post(f"/versions/{published.pk}/delete/")
    assert response.status_code == 400 and "only drafts can be deleted" in response.content.decode()
    response = admin_client.post(f"/versions/{draft.pk}/child/", {"name": "grandchild"})
    assert response.status_code == 400 and "publish it before creating a child" in response.content.decode()
    assert DatasetVersion.objects.filter(dataset=dataset).count() == 2

    # Publish with a working copy = snapshot; next= brings the browser back to the tree.
    response = admin_client.post(f"/versions/{draft.pk}/publish/?next=/datasets/{dataset.pk}/",
                                 {"name": "v2", "open_child": "on", "child_name": "Current"})
    assert response.status_code == 302 and response["Location"] == f"/datasets/{dataset.pk}/"
    names = {v.name: (v.status, v.parent.name if v.parent else None) for v in dataset.versions.all()}
    assert names == {"v1": ("published", None), "v2": ("published", "v1"), "Current": ("draft", "v2")}
    # next= never leaves the site.
    current = dataset.versions.get(name="Current")
    response = admin_client.post(f"/versions/{current.pk}/edit/?next=https://evil.example/", {"name": "wip"})
    assert response["Location"] == f"/versions/{current.pk}/"


@pytest.mark.django_db
def test_version_tree_nests_children_under_parents(admin_client):
    dataset, v1, _ = make_dataset()
    v2, current = services.version_snapshot(user=ACTOR, version=services.version_create(user=ACTOR, parent=v1, name="v2"))
    services.version_create(user=ACTOR, parent=v1, name="branch")
    html = admin_client.get(f"/datasets/{dataset.pk}/").content.decode()
    tree = html[html.index('id="version-tree"'):]
    # v1 > [v2 > [Current], branch]: nested <ul>s in that order.
    order = re.findall(r'data-version-name="([^"]+)"|(<ul>|</ul>)', tree)
    flat = [name or tag for name, tag in order]
    assert flat[:8] == ["v1", "<ul>", "v2", "<ul>", "Current", "</ul>", "branch", "</ul>"]
    listing = admin_client.get(f"/datasets/{dataset.pk}/?view=list").content.decode()
    assert listing.index(">branch<") < listing.index(">v1<")  # newest change first


@pytest.mark.django_db
def test_metadata_tab_saves_through_the_service_and_refuses_bad_input(admin_client):
    dataset, published, _ = make_dataset()
    draft = services.version_create(user=ACTOR, parent=published, name="work")
    url = f"/versions/{draft.pk}/metadata/"
    before = DatasetVersion.objects.get(pk=draft.pk).metadata

    response = admin_client.post(url, {"metadata": '{"mask_labels": '})
    assert response.status_code == 400 and "not valid JSON" in response.content.decode()
    response = admin_client.post(url, {"metadata": json.dumps({"mask_labels": {"_all_": [
        {"value": [1, 2, 3], "labels": ["a"]}, {"value": [256, 0, 0], "labels": ["b"]}]}})})
    html = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'<tr data-row="1" class="row-error">.*?value must be a list of 0..255 integers', html, re.S)
    assert DatasetVersion.objects.get(pk=draft.pk).metadata == before

    new = {"mask_labels": {"_all_": [{"value": [10, 20, 30], "labels": ["road", "drivable"]}]}, "source": "ui"}
    response = admin_client.post(url, {"metadata": json.dumps(new)})
    assert response.status_code == 302
    assert DatasetVersion.objects.get(pk=draft.pk).metadata == new

    html = admin_client.get(f"/versions/{published.pk}/metadata/").content.decode()
    assert 'id="metadata-readonly"' in html and "metadata-save" not in html and "readonly" in html
    response = admin_client.post(f"/versions/{published.pk}/metadata/", {"metadata": "{}"})
    assert response.status_code == 400 and "is published and cannot be changed" in response.content.decode()
    assert DatasetVersion.objects.get(pk=published.pk).metadata["mask_labels"]


@pytest.mark.django_db
def test_statistics_counts_match_the_frames(admin_client):
    _, version, data = make_dataset(frames=48)
    roi_n, roi_f, fl_n, fl_f = expected_label_counts(data)
    html = admin_client.get(f"/versions/{version.pk}/stats/").content.decode()

    def table(section_id):
        section = html[html.index(f'id="{section_id}"'):]
        section = section[: section.index("</section>")]
        rows = re.findall(r'<tr data-label="([^"]+)">.*?data-col="annotations">([\d,]+)<.*?data-col="frames">([\d,]+)<', section, re.S)
        return {label: (int(a.replace(",", "")), int(f.replace(",", ""))) for label, a, f in rows}

    assert table("roi-labels") == {label: (roi_n[label], roi_f[label]) for label in roi_n}
    assert table("frame-labels") == {label: (fl_n[label], fl_f[label]) for label in fl_n}
    annotated = sum(1 for frame in data if frame["rois"])
    assert re.search(rf'id="stat-annotated">{annotated}<', html)
    assert re.search(r'id="stat-frames">48<', html)

    # Under a filter the page paints at once and stats.js fetches the counts from the labels URL.
    filtered = admin_client.get(f"/versions/{version.pk}/stats/", {"label": "car"}).content.decode()
    assert 'id="stats-filter"' in filtered and f'data-stats-src="/versions/{version.pk}/stats/labels/?label=car"' in filtered
    part = admin_client.get(f"/versions/{version.pk}/stats/labels/", {"label": "car"}).content.decode()
    assert re.search(rf'id="stat-frames">{roi_f["car"]}<', part) and "<html" not in part
    bad = admin_client.get(f"/versions/{version.pk}/stats/", {"frame_query": "meta.speed:[1 TO"}).content.decode()
    assert "Filter not applied" in bad


@pytest.mark.django_db
def test_meta_key_distribution_counts_in_the_database():
    _, version, data = make_dataset(frames=60)
    dist = selectors.meta_distribution(user=ACTOR, version=version, key="speed", bins=10)
    speeds = [f["meta"]["speed"] for f in data]
    assert dist["kind"] == "numeric" and (dist["min"], dist["max"]) == (min(speeds), max(speeds))
    assert sum(b["count"] for b in dist["buckets"]) == len(data) == dist["with_key"]
    for bucket in dist["buckets"]:
        assert bucket["count"] == sum(1 for s in speeds if bucket["lo"] <= s <= bucket["hi"])

    dist = selectors.meta_distribution(user=ACTOR, version=version, key="meta.weather")
    assert dist["kind"] == "categorical"
    assert {v["value"]: v["count"] for v in dist["values"]} == Counter(f["meta"]["weather"] for f in data)

    from frames.filters import parse_filters

    filters = parse_filters([{"rois": [{"labels": ["car"]}]}])
    dist = selectors.meta_distribution(user=ACTOR, version=version, key="city", filters=filters)
    cars = [f for f in data if any("car" in r["labels"] and "poly" in r for r in f["rois"])]
    assert dist["frames"] == len(cars) and {v["value"]: v["count"] for v in dist["values"]} == Counter(f["meta"]["city"] for f in cars)

    dist = selectors.meta_distribution(user=ACTOR, version=version, key="missing.key")
    assert dist["kind"] == "empty" and dist["missing"] == len(data)
    for key in ("", "a..b", "a__b"):
        with pytest.raises(ServiceError):
            selectors.meta_distribution(user=ACTOR, version=version, key=key)
    with pytest.raises(ServiceError):
        selectors.meta_distribution(user=ACTOR, version=version, key="speed", bins=0)
    assert selectors.meta_keys(user=ACTOR, version=version) == ["city", "speed", "weather"]


# ----------------------------------------------------------------------------------------------- browser


def open_dialog(page, locator):
    locator.click()
    dialog = page.locator("dialog#app-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("form")).to_be_visible()
    return dialog


@pytest.mark.django_db(transaction=True)
def test_browser_datasets_and_version_tree(page, live_server, admin_user):
    make_dataset()
    page.set_default_timeout(15_000)
    page.goto("/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "password")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Datasets")
    expect(page.locator("#datasets tbody tr")).to_have_count(1)
    shot(page, "01-datasets")

    # Create: a taken name is refused inline in the dialog, then a new one works.
    dialog = open_dialog(page, page.locator("#new-dataset"))
    dialog.locator("#id_name").fill("street-scenes")
    dialog.locator("#id_tags").fill("street, night")
    dialog.locator("button[type=submit]").click()
    expect(dialog.locator(".field-error")).to_contain_text("already exists")
    shot(page, "02-create-dataset-error")
    dialog.locator("#id_name").fill("ui-walk")
    dialog.locator("button[type=submit]").click()
    expect(page.locator("#dataset-name")).to_contain_text("ui-walk")
    expect(page.locator(".message")).to_contain_text("created")
    node = page.locator('.vnode[data-version-name="Current"]')
    expect(node.locator(".badge-draft")).to_be_visible()
    expect(node.locator('[data-action="child"]')).to_have_count(0)  # the tree leaves out what the rules forbid

    # Snapshot: Current becomes v1 (published) with a new draft child Current.
    dialog = open_dialog(page, node.locator('a[data-action="snapshot"]'))
    expect(dialog.locator("#id_name")).to_have_value("v1")
    dialog.locator("button[type=submit]").click()
    v1 = page.locator('.vnode[data-version-name="v1"]')
    expect(v1.locator(".badge-published")).to_be_visible()
    expect(page.locator('#version-tree li li .vnode[data-version-name="Current"]')).to_be_visible()

    # A child of v1, then delete it (confirmation dialog).
    dialog = open_dialog(page, v1.locator('a[data-action="child"]'))
    dialog.locator("#id_name").fill("experiment")
    dialog.locator("#id_description").fill("Try relabelled taxis")
    dialog.locator("button[type=submit]").click()
    experiment = page.locator('.vnode[data-version-name="experiment"]')
    expect(experiment).to_be_visible()
    shot(page, "03-version-tree")
    dialog = open_dialog(page, experiment.locator('a[data-action="delete"]'))
    expect(dialog).to_contain_text("cannot be undone")
    shot(page, "04-delete-draft-dialog")
    dialog.locator("button[type=submit]").click()
    expect(page.locator('.vnode[data-version-name="experiment"]')).to_have_count(0)

    # Publish the draft from its page with a working copy, then rename the new draft.
    page.locator('.vnode[data-version-name="Current"] a.vnode-name').click()
    expect(page.locator(".tab.active")).to_have_text("Frames")
    forbidden = page.locator('.vh-actions [data-action="child"][aria-disabled="true"]')  # the header explains it
    expect(forbidden).to_have_attribute("title", re.compile("Publish this draft first"))
    dialog = open_dialog(page, page.locator('.vh-actions a[data-action="publish"]'))
    dialog.locator("#id_name").fill("v2")
    dialog.locator("#id_open_child").check()
    dialog.locator("button[type=submit]").click()
    expect(page.locator("#version-name")).to_have_text("Current")
    expect(page.locator(".vh-meta")).to_contain_text("from v2")
    dialog = open_dialog(page, page.locator('.vh-actions a[data-action="edit"]'))
    dialog.locator("#id_name").fill("working copy")
    dialog.locator("button[type=submit]").click()
    expect(page.locator("#version-name")).to_have_text("working copy")
    shot(page, "05-version-page")

    page.locator(".topbar .crumb", has_text="ui-walk").click()
    expect(page.locator("#version-tree .vnode")).to_have_count(3)
    names = page.locator("#version-tree .vnode").evaluate_all("nodes => nodes.map(n => n.dataset.versionName)")
    assert names == ["v1", "v2", "working copy"]
    page.locator('a[data-view="list"]').click()
    expect(page.locator("#version-list tbody tr")).to_have_count(3)
    expect(page.locator("#version-list tbody tr").first).to_contain_text("working copy")
    shot(page, "06-version-list")

    # Edit the dataset: bad JSON metadata is refused inline and changes nothing, then a good edit.
    dialog = open_dialog(page, page.locator('a[data-action="dataset-edit"]'))
    dialog.locator("#id_name").fill("ui-walk-2")
    dialog.locator("#id_metadata").fill('{"owner": "qa",}')
    dialog.locator("button[type=submit]").click()
    expect(dialog.locator(".field-error")).to_contain_text("not valid JSON")
    shot(page, "07-edit-dataset-bad-json")
    assert Dataset.objects.filter(name="ui-walk").exists() and not Dataset.objects.filter(name="ui-walk-2").exists()
    dialog.locator("#id_metadata").fill('{"owner": "qa"}')
    dialog.locator("#id_tags").fill("street, night, qa")
    dialog.locator("button[type=submit]").click()
    expect(page.locator("#dataset-name")).to_contain_text("ui-walk-2")
    expect(page.locator("#dataset-name .tag")).to_have_count(3)
    assert Dataset.objects.get(name="ui-walk-2").metadata == {"owner": "qa"}

    # Search by tag and by id, then delete the dataset from the list.
    page.goto("/?q=qa")
    expect(page.locator("#datasets tbody tr")).to_have_count(1)
    walk = Dataset.objects.get(name="ui-walk-2")
    page.goto(f"/?q={walk.pk}")
    expect(page.locator("#datasets tbody tr")).to_have_count(1)
    page.goto("/")
    row = page.locator("#datasets tbody tr", has=page.locator(f'[data-dataset-id="{walk.pk}"]'))
    row.hover()
    dialog = open_dialog(page, row.locator("a", has_text="Delete"))
    expect(dialog).to_contain_text("Delete dataset “ui-walk-2”?")
    dialog.locator("button[type=submit]").click()
    expect(page.locator("#datasets tbody tr")).to_have_count(1)
    assert not Dataset.objects.filter(pk=walk.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_browser_metadata_mask_table_and_statistics(logged_in_page, live_server):
    page = logged_in_page
    dataset, published, data = make_dataset(frames=48)
    draft = services.version_create(user=ACTOR, parent=published, name="work")

    # Statistics: label tables and cards match the frames; the metadata histogram loads after paint.
    roi_n, roi_f, fl_n, fl_f = expected_label_counts(data)
    page.goto(f"/versions/{published.pk}/stats/")
    for label, count in roi_n.items():
        row = page.locator(f'#roi-labels tr[data-label="{label}"]')
        expect(row.locator('[data-col="annotations"]')).to_have_text(str(count))
        expect(row.locator('[data-col="frames"]')).to_have_text(str(roi_f[label]))
    for label, count in fl_n.items():
        expect(page.locator(f'#frame-labels tr[data-label="{label}"] [data-col="annotations"]')).to_have_text(str(count))
    expect(page.locator("#stat-annotated")).to_have_text(str(sum(1 for f in data if f["rois"])))
    # The default key (weather) is counted after the page has painted (stats.js fetches it).
    weather = Counter(f["meta"]["weather"] for f in data)
    expect(page.locator("#meta-distribution-body .meta-values tbody tr")).to_have_count(3)
    expect(page.locator('#meta-distribution-body .meta-values tr[data-value="sunny"] td.num').first).to_have_text(str(weather["sunny"]))
    shot(page, "08-statistics")
    page.fill("#meta-key", "speed")
    page.fill("#meta-bins", "12")
    page.click("#meta-key-form button[type=submit]")
    expect(page.locator("#meta-distribution-body .meta-buckets tbody tr")).to_have_count(12)
    expect(page.locator('#meta-distribution-body figure[data-chart="chart-meta"][data-drawn="true"]')).to_have_count(1)
    shot(page, "08b-statistics-histogram")
    page.goto(f"/versions/{published.pk}/stats/?label=person&key=speed")
    expect(page.locator("#stat-frames")).to_have_text(str(roi_f["person"]))
    shot(page, "09-statistics-filtered")

    # Info
    page.goto(f"/versions/{published.pk}/info/")
    expect(page.locator("#version-info")).to_contain_text(published.pk)
    expect(page.locator("#info-frames")).to_have_text("48")
    shot(page, "10-info")

    # Published metadata: read-only.
    page.goto(f"/versions/{published.pk}/metadata/")
    expect(page.locator("#metadata-readonly")).to_be_visible()
    expect(page.locator("#metadata-save")).to_have_count(0)
    expect(page.locator("#mask-table tbody tr")).to_have_count(2)

    # Draft metadata: add a mask row in the table, which rewrites the JSON, and save.
    page.goto(f"/versions/{draft.pk}/metadata/")
    expect(page.locator("#mask-table tbody tr")).to_have_count(2)
    page.click("#mask-add")
    row = page.locator("#mask-table tbody tr").nth(2)
    row.locator('[data-k="c0"]').fill("128")
    row.locator('[data-k="c1"]').fill("64")
    row.locator('[data-k="c2"]').fill("128")
    row.locator('[data-k="labels"]').fill("road, drivable")
    expect(row.locator('[data-k="colour"]')).to_have_value("#804080")
    assert json.loads(page.locator("#id_metadata").input_value())["mask_labels"]["_all_"][2] == {"value": [128, 64, 128], "labels": ["road", "drivable"]}
    page.locator("#mask-table tbody tr").nth(0).locator("[data-remove]").click()
    shot(page, "11-metadata-editing")
    page.click("#metadata-save")
    expect(page.locator(".message")).to_contain_text("Metadata saved")
    page.wait_for_load_state("domcontentloaded")  # the page's scripts have run: typing reaches metadata.js
    saved = DatasetVersion.objects.get(pk=draft.pk).metadata["mask_labels"]["_all_"]
    assert saved == [{"value": [220, 20, 60], "labels": ["person"]}, {"value": [128, 64, 128], "labels": ["road", "drivable"]}]

    # Typing JSON rebuilds the table; bad JSON is refused inline and changes nothing.
    page.fill("#id_metadata", json.dumps({"mask_labels": {"_all_": [{"value": [1, 2, 3], "labels": ["x"]}]}}))
    expect(page.locator("#mask-table tbody tr")).to_have_count(1)
    page.fill("#id_metadata", '{"mask_labels": {"_all_": [}')
    expect(page.locator("#json-status")).to_contain_text("✗")
    page.click("#metadata-save")
    expect(page.locator('.field-error[data-field="metadata"]')).to_contain_text("not valid JSON")
    shot(page, "12-metadata-bad-json")
    assert DatasetVersion.objects.get(pk=draft.pk).metadata["mask_labels"]["_all_"] == saved
    # A value out of range: the service's error lands on the row.
    page.fill("#id_metadata", json.dumps({"mask_labels": {"_all_": [{"value": [1, 2, 3], "labels": ["x"]}, {"value": [999, 0, 0], "labels": ["y"]}]}}))
    page.click("#metadata-save")
    expect(page.locator("#mask-table tr.row-error .field-error")).to_contain_text("0..255")
    shot(page, "13-metadata-row-error")
    assert DatasetVersion.objects.get(pk=draft.pk).metadata["mask_labels"]["_all_"] == saved


@pytest.mark.django_db
def test_page_query_counts_do_not_grow_with_versions(admin_client, django_assert_max_num_queries):
    dataset, v1, _ = make_dataset(frames=6)
    admin_client.get(f"/datasets/{dataset.pk}/")  # warm the session
    pages = [f"/datasets/{dataset.pk}/", f"/datasets/{dataset.pk}/?view=list", f"/versions/{v1.pk}/stats/",
             f"/versions/{v1.pk}/info/", f"/versions/{v1.pk}/metadata/"]
    counts = {}
    for url in pages:
        with django_assert_max_num_queries(12) as captured:
            admin_client.get(url)
        counts[url] = len(captured.captured_queries)
    parent = v1
    for n in range(6):  # a chain of published versions and a few drafts beside it
        services.version_create(user=ACTOR, parent=parent, name=f"draft-{n}")
        parent = services.version_publish(user=ACTOR, version=services.version_create(user=ACTOR, parent=parent, name=f"v{n + 2}"))
    for url in pages:
        with django_assert_max_num_queries(counts[url]):
            admin_client.get(url)


@pytest.mark.django_db
def test_statistics_count_once_and_follow_draft_changes(admin_client):
    from django.core.cache import cache

    _, published, data = make_dataset(frames=12)
    draft = services.version_create(user=ACTOR, parent=published, name="work")
    # Another request counting the same metadata key: this one answers 202 at once (stats.js asks again).
    key = stats_keys.cache_key("meta", published, "speed", [], 20, selectors.stats.DEFAULT_TOP)
    cache.add(f"{key}:lock", 1, 60)
    response = admin_client.get(f"/versions/{published.pk}/stats/meta/", {"key": "speed"})
    assert response.status_code == 202 and b"Counting" in response.content
    cache.delete(f"{key}:lock")
    response = admin_client.get(f"/versions/{published.pk}/stats/meta/", {"key": "speed"})
    assert response.status_code == 200 and b'data-chart="chart-meta"' in response.content  # drawn by stats.js (Chart.js)

    # A draft's counts are kept until the draft changes.
    def car_frames():
        part = admin_client.get(f"/versions/{draft.pk}/stats/labels/").content.decode()
        return int(re.search(r'<tr data-label="car">.*?data-col="frames">(\d+)<', part, re.S).group(1))

    before = car_frames()
    assert before == sum(1 for f in data if any("car" in r["labels"] and "poly" in r for r in f["rois"]))
    services.frames_add(user=ACTOR, version=draft, frames=[street_frame(101)])  # odd: one more car
    assert car_frames() == before + 1
