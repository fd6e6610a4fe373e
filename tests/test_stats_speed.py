"""What makes the Statistics tab fast stays exact: a draft's label statistics kept as its frames are written
(compared with a count from scratch after every kind of write), a child starting from its parent's, publishing
keeping them; answers under a filter cached by filter on a published version (used, and never stale)."""
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from frames import selectors, services
from frames.filters import parse_filters
from frames.models import DatasetVersion, RoiLabel
from frames.selectors import stats as stat_selectors
from frames.selectors.stats_kept import PAIRS, kept_label_filter_stats, kept_stats_with_pairs, public_stats
from frames.services import stats as stat_services

pytestmark = pytest.mark.django_db


def frame(i, labels=("car",), frame_labels=(), confidence=None, **meta):
    rois = [{"labels": list(labels), "poly": [0, 0, 4, 0, 4, 4], **({"confidence": confidence} if confidence is not None else {})}]
    rois += [{"labels": [label]} for label in frame_labels]  # no shape: labels the whole frame
    return {"id": f"f{i}", "sources": [{"uri": f"s3://b/{i}.jpg"}], "rois": rois if labels or frame_labels else [], "meta": meta}


def fresh(version):
    return DatasetVersion.objects.select_related("dataset", "parent").get(pk=version.pk)


def assert_exact(user, version):
    """What the version keeps equals a count from its frames (and the RoiLabel index agrees)."""
    version = fresh(version)
    kept = stat_selectors.label_stats(user=user, version=version)
    counted = stat_selectors.counted_label_stats(user=user, version=version, pairs=True)
    assert kept == public_stats(counted)
    assert kept["frame_count"] == version.frame_count
    # The pairs kept beside them: what each single-label filter's statistics are read from.
    assert kept_stats_with_pairs(version)[PAIRS] == counted[PAIRS]
    for label in [e["label"] for e in kept["labels"]] + ["absent"]:
        for logic in ("include", "exclude"):
            filters = parse_filters([{"rois": [{"labels": [label], "logic": logic}]}])
            assert kept_label_filter_stats(version, filters) == stat_selectors.counted_label_stats(user=user, version=version, filters=filters)
    return kept


def by_label(stats):
    return {e["label"]: (e["roi_count"], e["frame_label_count"], e["frame_count"]) for e in stats["labels"]}


def test_counts_stay_exact_through_adds_replaces_updates_deletes_children_and_publishing(admin_user):
    user = admin_user
    root = services.dataset_create(user=user, name="kept-counts").versions.get()
    services.frames_add(user=user, version=root, frames=[frame(i, labels=["car", "car", "bus"] if i % 3 else ["person"], frame_labels=["day"] if i % 2 else []) for i in range(30)])
    root = fresh(root)
    assert root.stats is not None  # kept by the write, not counted on reading
    stats = assert_exact(user, root)
    assert by_label(stats)["car"] == (20, 0, 20) and by_label(stats)["day"] == (0, 15, 15)
    assert stats["annotated_frame_count"] == 30

    services.frames_add(user=user, version=root, frames=[frame(1, labels=["truck"]), frame(2, labels=[]), frame(40, labels=["car"])])  # replaces + an add
    services.frames_update(user=user, version=root, frames=[{"id": "f3", "rois": []}, {"id": "f4", "meta": {"x": 1}}])
    services.frames_delete(user=user, version=root, frame_ids=["f5", "f6", "missing"])
    stats = assert_exact(user, root)
    assert stats["frame_count"] == 29 and stats["annotated_frame_count"] == 27

    published = services.version_publish(user=user, version=root)
    assert public_stats(published.stats) == stats  # publishing keeps them: nothing counted again, no job

    child = services.version_create(user=user, parent=published, name="child")
    with CaptureQueriesContext(connection) as queries:
        inherited = stat_selectors.label_stats(user=user, version=fresh(child))
    assert inherited == stats and len(queries) <= 3  # the parent's: no count over the frames
    assert not any("roilabel" in q["sql"].lower() for q in queries.captured_queries)

    services.frames_add(user=user, version=child, frames=[frame(7, labels=["bike"], frame_labels=["night"]), frame(50, labels=["car"])])
    services.frames_delete(user=user, version=child, frame_ids=["f8", "f9", "f50"])  # inherited ones and its own
    services.frames_add(user=user, version=child, frames=[frame(8, labels=["car"])])  # back after a delete
    child_stats = assert_exact(user, child)
    assert assert_exact(user, published) == stats  # the parent is untouched
    grandchild = services.version_create(user=user, parent=services.version_publish(user=user, version=fresh(child)), name="g")
    services.frames_delete(user=user, version=grandchild, frame_ids=["f7"])
    services.frames_update(user=user, version=grandchild, frames=[{"id": "f10", "rois": [{"labels": ["car", "bus"], "poly": [0, 0, 1, 0, 1, 1]}]}])
    assert assert_exact(user, grandchild) != child_stats


def test_a_draft_keeping_nothing_yet_is_counted_once_then_kept(admin_user):
    """A draft from before counts were kept (stats NULL, frames of its own): its first write counts it."""
    user = admin_user
    root = services.dataset_create(user=user, name="legacy").versions.get()
    services.frames_add(user=user, version=root, frames=[frame(i) for i in range(5)])
    DatasetVersion.objects.filter(pk=root.pk).update(stats=None)
    services.frames_add(user=user, version=fresh(root), frames=[frame(9, labels=["bus"])])
    assert by_label(assert_exact(user, root)) == {"car": (5, 0, 5), "bus": (1, 0, 1)}


def test_a_filtered_answer_on_a_published_version_is_cached_and_never_stale(admin_user, settings):
    settings.HYPERDATA_STATS_SYNC_FRAMES = 10**9
    cache.clear()
    user = admin_user
    root = services.dataset_create(user=user, name="cached").versions.get()
    services.frames_add(user=user, version=root, frames=[frame(i, labels=["car"] if i % 2 else ["bus"], confidence=i / 10) for i in range(10)])
    published = services.version_publish(user=user, version=root)
    filters = parse_filters([{"rois": [{"labels": ["car"]}]}])
    first = stat_services.label_stats(user=user, version=published, filters=filters)
    assert by_label(first) == {"car": (5, 0, 5)} and first["frame_count"] == 5
    count = stat_services.frames_count(user=user, version=published, filters=filters)
    conf = stat_services.meta_distribution(user=user, version=published, key="rois.confidence", filters=filters)
    assert count == 5 and sum(b["count"] for b in conf["buckets"]) == 5
    with CaptureQueriesContext(connection) as queries:
        again = stat_services.label_stats(user=user, version=published, filters=filters)
        count_again = stat_services.frames_count(user=user, version=published, filters=filters)
        conf_again = stat_services.meta_distribution(user=user, version=published, key="rois.confidence", filters=filters)
    assert again == first and count_again == count and conf_again == conf
    counting = [q["sql"] for q in queries.captured_queries if "frames_frame" in q["sql"] or "roilabel" in q["sql"]]
    assert counting == []  # the repeats come from the cache

    # A draft's answer follows its writes: cached, but not after a change.
    child = services.version_create(user=user, parent=published, name="draft")
    before = stat_services.label_stats(user=user, version=fresh(child), filters=filters)
    services.frames_add(user=user, version=child, frames=[frame(20, labels=["car"])])
    after = stat_services.label_stats(user=user, version=fresh(child), filters=filters)
    assert after["frame_count"] == before["frame_count"] + 1
    assert stat_services.label_stats(user=user, version=fresh(published), filters=filters) == first  # parent unchanged


def test_roi_distributions_count_what_the_frames_hold(admin_user):
    user = admin_user
    root = services.dataset_create(user=user, name="roi-hist").versions.get()
    frames = [frame(i, labels=["car"] if i < 6 else ["bus"], confidence=i / 10) for i in range(10)]
    for i, f in enumerate(frames):
        f["rois"][0]["meta"] = {"area": i * 10} if i % 5 else {"area": "big"}
    services.frames_add(user=user, version=root, frames=frames)
    conf = selectors.roi_distribution(user=user, version=root, key="rois.confidence", bins=10)
    assert conf["kind"] == "numeric" and sum(b["count"] for b in conf["buckets"]) == 10
    assert {s["label"]: sum(s["counts"]) for s in conf["series"]} == {"car": 6, "bus": 4}
    assert [b["count"] for b in conf["buckets"]] == [1] * 10
    area = selectors.roi_distribution(user=user, version=root, key="rois.meta.area", bins=4)
    values = [i * 10 for i in range(10) if i % 5]
    assert area["kind"] == "numeric" and area["with_key"] == 10 and area["other_types"] == 2
    assert area["min"] == min(values) and area["max"] == max(values)
    assert sum(b["count"] for b in area["buckets"]) == len(values)
    assert RoiLabel.objects.filter(revision__version=root).count() == 10
    assert selectors.roi_meta_keys(user=user, version=root) == ["rois.meta.area"]


def test_a_one_label_count_is_read_from_the_kept_statistics_and_equals_a_count(admin_user):
    """Frames with a label (as an ROI's or the frame's), or without it: the count the version keeps per label,
    with no query of the label index, equal to the count from the frames after every kind of write."""
    user = admin_user
    root = services.dataset_create(user=user, name="one-label").versions.get()
    services.frames_add(user=user, version=root, frames=[
        frame(0), frame(1, labels=("car", "red")), frame(2, labels=(), frame_labels=("car",)),
        frame(3, labels=("bus",), frame_labels=("car",)), frame(4, labels=("bus",)), frame(5, labels=()),
    ])

    def assert_counts(version, expected_car):
        version = fresh(version)
        for rules, expected in (([{"labels": ["car"]}], expected_car), ([{"labels": ["car"], "logic": "exclude"}], version.frame_count - expected_car),
                                ([{"labels": ["unicorn"]}], 0)):
            filters = parse_filters([{"rois": rules}])
            with CaptureQueriesContext(connection) as queries:
                kept = stat_services.frames_count(user=user, version=version, filters=filters)
            counted = selectors.frames_count(user=user, version=version, filters=filters)  # from the frames, by SQL
            assert (kept, counted) == (expected, expected), rules
            assert not any("frames_roilabel" in q["sql"] for q in queries.captured_queries)

    assert_counts(root, 4)
    services.frames_update(user=user, version=root, frames=[{"id": "f0", "rois": []}])
    services.frames_delete(user=user, version=root, frame_ids=["f2"])
    assert_counts(root, 2)
    published, child = services.version_snapshot(user=user, version=root)
    assert_counts(published, 2)
    assert_counts(child, 2)  # inherited from the parent
    services.frames_add(user=user, version=child, frames=[frame(7), frame(8, labels=(), frame_labels=("car",))])
    assert_counts(child, 4)
