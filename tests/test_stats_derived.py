"""A draft child's statistics and counts under any filter come from its published parent's answer plus what the
draft changed (frames.selectors.stats_delta), and single-label filters from the pairs a version keeps
(frames.selectors.stats_kept). Either way the answer must be exactly what counting the draft's frames gives:
checked here after edits, additions, deletions, values outside the parent's range, and for every kind of
distribution the Statistics tab shows."""
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from frames import selectors, services
from frames.filters import parse_filters
from frames.models import DatasetVersion, FrameRevision, Job
from frames.selectors import stats as stat_selectors
from frames.selectors import stats_delta
from frames.services import stats as stat_services
from frames.services import stats_derived
from playwright.sync_api import expect

from .sql_keys import revision_keys_named

pytestmark = [pytest.mark.django_db]
SHOTS = Path("/tmp/shots-13/statistics")

FILTERS = {
    "none": [],
    "label car": [{"rois": [{"labels": ["car"]}]}],
    "not car": [{"rois": [{"labels": ["car"], "logic": "exclude"}]}],
    "car, confident": [{"rois": [{"labels": ["car"], "conf_range": [0.5, 1]}]}],
    "fog": [{"frame_query": "meta.weather:fog"}],
    "snow (none)": [{"frame_query": "meta.weather:snow"}],
    "speed 10-40 or bus": [{"frame_query": "meta.speed:[10 TO 40]"}, {"rois": [{"labels": ["bus"]}]}],
}
KEYS = ["speed", "weather", "rois.confidence", "rois.meta.area"]


def frame(i, *, speed=None, label=None, confidence=None, area=None):
    label = label or ["car", "bus", "car", "person"][i % 4]
    roi = {"labels": [label], "poly": [0, 0, 8, 0, 8, 8], "confidence": (i % 10) / 10 if confidence is None else confidence,
           "meta": {"area": (i * 7) % 90 + 5 if area is None else area}}
    rois = [roi] + ([{"labels": ["night"]}] if i % 3 == 0 else [])  # a frame label on every third frame
    return {"id": f"f{i:03d}", "context_id": f"v{i // 10}", "timestamp": i % 10, "sources": [{"uri": f"s3://b/{i}.jpg"}],
            "meta": {"speed": (i * 3) % 60 + 1 if speed is None else speed, "weather": ["sun", "rain", "fog"][i % 3]}, "rois": rois}


def fresh(version):
    return DatasetVersion.objects.select_related("dataset", "parent").get(pk=version.pk)


@pytest.fixture
def family(admin_user, settings):
    """A published parent of 120 frames and a draft child of it (no frames of its own yet)."""
    settings.HYPERDATA_PREVIEWS_AUTO = False
    settings.HYPERDATA_STATS_SYNC_FRAMES = 10**9
    settings.HYPERDATA_STATS_DERIVE_FRAMES = 0  # derive at any size (the default starts at 10,000 frames)
    cache.clear()
    root = services.dataset_create(user=admin_user, name="derived").versions.get()
    services.frames_add(user=admin_user, version=root, frames=[frame(i) for i in range(120)])
    parent = services.version_publish(user=admin_user, version=root)
    child = services.version_create(user=admin_user, parent=parent, name="draft")
    return admin_user, fresh(parent), fresh(child)


def counted(user, version, name):
    """Everything the Statistics tab and the Frames tab's count show, counted from the version's frames."""
    filters = parse_filters(FILTERS[name])
    answers = {"labels": stat_selectors.counted_label_stats(user=user, version=version, filters=filters),
               "count": selectors.frames_count(user=user, version=version, filters=filters)}
    for key in KEYS:
        read = selectors.roi_distribution if key.startswith("rois.") else selectors.meta_distribution
        answers[key] = read(user=user, version=version, key=key, filters=filters)
    return answers


def served(user, version, name):
    """The same, as the services answer it (kept, derived or cached)."""
    filters = parse_filters(FILTERS[name])
    answers = {"labels": stat_services.label_stats(user=user, version=version, filters=filters),
               "count": stat_services.frames_count(user=user, version=version, filters=filters)}
    for key in KEYS:
        answers[key] = stat_services.meta_distribution(user=user, version=version, key=key, filters=filters)
    return answers


def assert_served_as_counted(user, version):
    for name in FILTERS:
        assert served(user, fresh(version), name) == counted(user, fresh(version), name), name


def test_a_drafts_answers_equal_a_count_after_every_kind_of_write(family):
    user, parent, child = family
    assert_served_as_counted(user, child)  # nothing of its own yet: the parent's
    services.frames_add(user=user, version=child, frames=[
        frame(5, label="bus", speed=30, confidence=0.55, area=40),  # edited, values inside the parent's range
        frame(6, label="car"),  # same frame again
        frame(500, label="truck", speed=12),  # new frame, new label
    ])
    services.frames_delete(user=user, version=child, frame_ids=["f007", "f008", "f500"])
    services.frames_update(user=user, version=child, frames=[{"id": "f009", "meta": {"speed": 44}}, {"id": "f010", "rois": []}])
    assert_served_as_counted(user, child)

    # Values beyond the parent's min and max: the histograms' edges move, so they are counted, and still exact.
    services.frames_add(user=user, version=child, frames=[frame(11, speed=500, confidence=1.0, area=10_000),
                                                          frame(12, speed="fast")])
    assert_served_as_counted(user, child)
    # The parent's extreme values removed: its min and max may no longer hold.
    low = min(range(120), key=lambda i: ((i * 3) % 60 + 1, i))
    services.frames_delete(user=user, version=child, frame_ids=[f"f{low:03d}"])
    assert_served_as_counted(user, child)
    assert_served_as_counted(user, parent)


def test_answers_are_derived_from_the_parent_with_a_few_small_queries(family):
    user, parent, child = family
    services.frames_add(user=user, version=child, frames=[frame(3, label="bus", speed=20, confidence=0.3, area=50)])
    services.frames_delete(user=user, version=child, frame_ids=["f004"])
    child = fresh(child)
    filters = parse_filters(FILTERS["fog"])
    for key in KEYS:  # the parent's answers, counted once (and kept for good)
        stat_services.meta_distribution(user=user, version=parent, key=key, filters=filters)
    stat_services.label_stats(user=user, version=parent, filters=filters)
    changes = stats_delta.draft_changes(user=user, version=child)
    assert changes is not None and changes.parent_id == parent.pk
    delta = stats_delta.delta_of(user=user, version=child, changes=changes, filters=filters)
    for key in KEYS:
        parent_answer = stat_services.meta_distribution(user=user, version=parent, key=key, filters=filters)
        with CaptureQueriesContext(connection) as queries:
            derived = stats_delta.distribution_from_parent(user=user, version=child, delta=delta, parent_answer=parent_answer,
                                                           key=key, bins=stat_selectors.DEFAULT_BINS, top=stat_selectors.DEFAULT_TOP).answer
        assert derived is not None, key  # within the parent's range: derived, not counted
        assert derived == counted(user, child, "fog")[key]
        # Each side of the change (the parent's revisions it replaced, its own) read once: aggregate and buckets or values.
        assert len([q for q in queries.captured_queries if "frames_frame" in q["sql"]]) == 2, key
    with CaptureQueriesContext(connection) as queries:
        stat_services.label_stats(user=user, version=child, filters=filters)
    # Only the draft's changes are read: the parent's replaced rows and its own, found by the draft's own rows or
    # (after a write, from the changes kept before it) by the frame ids it wrote.
    frame_queries = [q["sql"] for q in queries.captured_queries if "frames_frame" in q["sql"]]
    assert frame_queries and all(_bounded(sql) for sql in frame_queries), frame_queries


def _bounded(sql: str) -> bool:
    """A query over the draft's own rows (by version) or over rows named by primary key or frame id (the frame ids
    a write added to the draft, looked up in the parent)."""
    return '"version_id" =' in sql or '"id" IN (' in sql or '"id" = ANY(' in sql or '"frame_id" IN (' in sql


def test_a_draft_with_many_own_revisions_is_counted(family, monkeypatch):
    user, parent, child = family
    monkeypatch.setattr(stats_delta, "DELTA_MAX_OWN_ROWS", 2)
    services.frames_add(user=user, version=child, frames=[frame(i, label="bus") for i in range(3)])
    assert stats_delta.draft_changes(user=user, version=fresh(child)) is None
    assert_served_as_counted(user, child)


def test_single_label_filters_are_read_from_the_kept_pairs_without_counting(family):
    user, parent, child = family
    services.frames_add(user=user, version=child, frames=[frame(1, label="truck"), frame(900, label="car")])
    for version in (parent, fresh(child)):
        for name in ("label car", "not car"):
            filters = parse_filters(FILTERS[name])
            with CaptureQueriesContext(connection) as queries:
                answer = stat_services.label_stats(user=user, version=version, filters=filters)
            assert answer == stat_selectors.counted_label_stats(user=user, version=version, filters=filters)
            assert not any("roilabel" in q["sql"].lower() for q in queries.captured_queries), name


def test_api_statistics_of_a_draft_follow_its_writes(family, client):
    user, parent, child = family
    client.force_login(user)
    url = f"/api/versions/{child.id}/stats/"
    query = {"filters": '[{"frame_query": "meta.weather:fog"}]'}
    before = client.get(url, query).json()
    services.frames_add(user=user, version=child, frames=[frame(2, label="truck")])  # f002 is a fog frame
    after = client.get(url, query).json()
    labels = {e["label"]: e["frame_count"] for e in after["labels"]}
    assert labels["truck"] == 1 and after["frame_count"] == before["frame_count"]
    assert after == stat_selectors.counted_label_stats(user=user, version=fresh(child), filters=parse_filters([{"frame_query": "meta.weather:fog"}]))


def test_publishing_counts_the_statistics_panels_once_for_the_version_and_its_children(admin_user, settings):
    settings.HYPERDATA_PREVIEWS_AUTO = False
    settings.HYPERDATA_STATS_DERIVE_FRAMES = 50
    cache.clear()
    root = services.dataset_create(user=admin_user, name="warm").versions.get()
    services.frames_add(user=admin_user, version=root, frames=[frame(i) for i in range(60)])
    published = services.version_publish(user=admin_user, version=root)
    job = Job.objects.get(kind="stats_warm", version=published)  # queued by the publish, for a worker
    assert job.subject.startswith("statistics panels of warm")
    services.published_distributions_warm(user=admin_user, version_id=published.pk)  # what the worker runs
    child = services.version_create(user=admin_user, parent=published, name="draft")
    services.frames_add(user=admin_user, version=child, frames=[frame(3, speed=20)])
    for version in (fresh(published), fresh(child)):
        with CaptureQueriesContext(connection) as queries:
            panels = {key: stat_services.meta_distribution(user=admin_user, version=version, key=key) for key in KEYS}
        # The published version's panels come from what the job kept; the draft's only read its own rows.
        frame_queries = [q["sql"] for q in queries.captured_queries if "frames_frame" in q["sql"]]
        assert all(_bounded(sql) for sql in frame_queries), frame_queries
        assert panels == {key: counted(admin_user, version, "none")[key] for key in KEYS}


@pytest.mark.django_db(transaction=True)
def test_browser_statistics_tab_of_an_edited_draft_shows_its_own_counts(logged_in_page, live_server, admin_user, settings):
    """The Statistics tab of a draft whose answers are derived from its parent's shows the draft's frames under
    the filter: the relabelled frame's new label counted, the parent's old one not. Screenshot in
    /tmp/shots-13/statistics/."""
    settings.HYPERDATA_PREVIEWS_AUTO = False
    settings.HYPERDATA_STATS_SYNC_FRAMES = 10**9
    settings.HYPERDATA_STATS_DERIVE_FRAMES = 0
    cache.clear()
    page = logged_in_page
    page.set_default_timeout(30_000)
    page.set_viewport_size({"width": 1440, "height": 900})
    root = services.dataset_create(user=admin_user, name="derived-ui").versions.get()
    services.frames_add(user=admin_user, version=root, frames=[frame(i) for i in range(120)])
    parent = services.version_publish(user=admin_user, version=root)
    child = services.version_create(user=admin_user, parent=parent, name="draft")
    page.goto(f"/versions/{parent.pk}/stats/?frame_query=meta.weather:fog")  # the parent answers first
    expect(page.locator("#stat-frames")).to_have_text("40")
    services.frames_add(user=admin_user, version=child, frames=[frame(2, label="truck", speed=33)])  # f002 is a fog frame
    services.frames_delete(user=admin_user, version=child, frame_ids=["f005"])  # and so is f005
    page.goto(f"/versions/{child.pk}/stats/?frame_query=meta.weather:fog")
    expected = counted(admin_user, fresh(child), "fog")["labels"]
    assert expected["frame_count"] == 39
    expect(page.locator("#stat-frames")).to_have_text("39")
    expect(page.locator("#stat-annotated")).to_have_text(str(expected["annotated_frame_count"]))
    for entry in expected["labels"]:
        row = page.locator(f'tr[data-label="{entry["label"]}"]').first
        expect(row.locator('[data-col="frames"]')).to_have_text(str(entry["frame_count"]))
    assert "truck" in {e["label"] for e in expected["labels"]}
    page.wait_for_selector('figure[data-chart="chart-confidence"][data-drawn="true"]')
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "stats-derived-draft.png"), full_page=True)


def asked_then_written_again(family):
    """The family's draft with 30 frames edited and every question asked; then written again: a frame it edited
    before (f002), one it had not (f007), one the parent lacks (f700), and a deletion (f009)."""
    user, parent, child = family
    services.frames_add(user=user, version=child, frames=[frame(i, label="bus") for i in range(0, 60, 2)])
    assert_served_as_counted(user, child)
    services.frames_add(user=user, version=child, frames=[frame(2, label="truck"), frame(7, label="car"), frame(700)])
    services.frames_delete(user=user, version=child, frame_ids=["f009"])
    return user, parent, child


def test_a_drafts_changes_are_read_from_what_its_writes_noted_without_a_lookup_in_the_parent(family):
    # Each write notes on the draft's own row the parent's revision it hides (FrameRevision.hides; the parent is
    # published and never changes), so even from scratch the draft's changes come from its own rows alone.
    user, parent, child = asked_then_written_again(family)
    services.frames_add(user=user, version=child, frames=[frame(9, label="truck")])  # deleted above, written again
    in_parent = dict(FrameRevision.objects.visible_in(parent).values_list("frame_id", "pk"))
    noted = dict(FrameRevision.objects.filter(version_id=child.pk).values_list("frame_id", "hides"))
    assert noted == {frame_id: in_parent.get(frame_id, 0) for frame_id in noted} and noted["f700"] == 0 and noted["f009"]
    fog = parse_filters(FILTERS["fog"])
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        stat_services.frames_count(user=user, version=fresh(child), filters=fog)
    assert not [q["sql"] for q in queries.captured_queries if '"frame_id" IN (' in q["sql"]]
    assert_served_as_counted(user, child)

    # Rows written before the note existed (NULL) are looked up, those alone.
    FrameRevision.objects.filter(version_id=child.pk, frame_id__in=["f002", "f700"]).update(hides=None)
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        stat_services.frames_count(user=user, version=fresh(child), filters=fog)
    lookups = [q["sql"] for q in queries.captured_queries if '"frame_id" IN (' in q["sql"]]
    assert len(lookups) == 1 and "'f002'" in lookups[0] and "'f700'" in lookups[0] and "'f004'" not in lookups[0], lookups
    assert_served_as_counted(user, child)


def test_after_a_write_only_the_parent_revisions_it_replaced_are_read(family):
    # What the parent's revisions a draft replaced contribute to an answer is kept per question: the parent never
    # changes and a draft's list of replaced revisions only grows, so a write's answers read the revisions it
    # replaced and the draft's own, not the thousands it replaced before.
    user, parent, child = asked_then_written_again(family)
    newly = set(FrameRevision.objects.visible_in(parent).filter(frame_id__in=["f007", "f009"]).values_list("pk", flat=True))
    filters = parse_filters(FILTERS["fog"])
    with CaptureQueriesContext(connection) as queries:
        stat_services.frames_count(user=user, version=fresh(child), filters=filters)
        stat_services.label_stats(user=user, version=fresh(child), filters=filters)
        for key in KEYS:
            stat_services.meta_distribution(user=user, version=fresh(child), key=key, filters=filters)
    named = [revision_keys_named(q["sql"]) for q in queries.captured_queries]
    keyed = [keys for keys in named if keys]  # at least one a question; the label statistics read labels and frames
    assert len(keyed) >= 2 + len(KEYS) and all(keys == newly for keys in keyed), named
    assert_served_as_counted(user, child)

    # The draft's changes read again from scratch (the cache lost them) may list the replaced revisions in another
    # order: what was kept no longer applies to that list, and every answer is still a count's.
    cache.delete(stats_derived.last_changes_key(child.pk))
    services.frames_add(user=user, version=child, frames=[frame(30, label="truck")])
    assert_served_as_counted(user, child)


def test_a_count_after_the_statistics_under_the_same_filter_reads_only_the_drafts_own_rows(family):
    # The label statistics' frame count is the count: what the replaced revisions contribute to one serves the
    # other, so the Frames tab's count after the Statistics tab's answer does not read those revisions again.
    user, parent, child = family
    services.frames_add(user=user, version=child, frames=[frame(i, label="bus") for i in range(0, 60, 2)])
    fog = parse_filters(FILTERS["fog"])
    cache.clear()
    stat_services.label_stats(user=user, version=fresh(child), filters=fog)
    with CaptureQueriesContext(connection) as queries:
        count = stat_services.frames_count(user=user, version=fresh(child), filters=fog)
    assert not [q["sql"] for q in queries.captured_queries if revision_keys_named(q["sql"])]
    assert count == selectors.frames_count(user=user, version=fresh(child), filters=fog) > 0
