"""A large published version's columns (frames.columnar, services.columns, selectors.columns) answer counts and
label statistics exactly as the database counts them, or not at all.

On PostgreSQL every filter below is answered from the columns and compared with the count over the frames: the
values include what jsonb compares in its own order (strings, numbers written as strings, booleans, JSON nulls,
missing keys, nested objects, arrays), ROIs with several labels, without a confidence, and frame labels. Filters
the columns cannot answer exactly (a pattern over frame ids, whose column they do not keep, an ROI's id, a pattern
over numbers written two ways, array elements, numbers beyond a float) answer None, and the services count them. A
frame id's term or range is looked up through the database's index. Regular expressions and string
range bounds, which only PostgreSQL can judge, are asked of it about the column's distinct strings, and must then
give the count over the frames too: the patterns include its own classes, and the bounds mix strings and numbers. Publishing runs the columns job
in the session's real worker. SQLite keeps no columns: the services count, as before."""
import shutil

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from frames import columnar, selectors, services
from frames import columnar_stored
from frames.columnar_stored import from_bytes, to_bytes
from frames.exceptions import Conflict
from frames.filters import parse_filters
from frames.models import FrameRevision, Job, VersionColumns
from frames.selectors import SYSTEM as ACTOR
from frames.selectors import columns as column_selectors
from frames.selectors import stats as stat_selectors
from frames.selectors import stats_delta
from frames.services import stats as stat_services
from frames.services.columns import columns_build

from .sql_keys import revision_keys_named
from .worker_jobs import wait_for_job

pytestmark = pytest.mark.django_db(transaction=True)

WEATHERS = ["sun", "rain", "fog", "50", None]
ANSWERED = [
    "meta.weather:fog", 'meta.weather:"fog"', "NOT meta.weather:fog", "-meta.weather:fog", "+meta.weather:fog",
    "meta.weather:(fog OR rain)", "meta.weather:50", 'meta.weather:"50"', "meta.speed:10", 'meta.speed:"10"', "meta.speed:[10 TO 20]",
    "meta.speed:{10 TO 20}", "meta.speed:[10 TO *]", "meta.speed:[* TO 20]", "meta.speed:[2.5 TO 7.25]", "meta.speed:*",
    "NOT meta.speed:*", "meta.ok:true", "meta.ok:false", "meta.ok:[0 TO *]", "meta.camera.model:x100",
    "meta.camera.iso:[100 TO 400]", "meta.camera:*", "meta.nothing:*", "NOT meta.nothing:x", "meta.weather:fog AND meta.speed:[0 TO 30]",
    "meta.weather:fog OR meta.ok:true", "(meta.weather:sun OR meta.weather:rain) AND NOT meta.speed:[5 TO 9]",
    "meta.tags:*", "meta.tags:[0 TO *]", "meta.weather:[* TO 0]",
    "meta.weather:f*", "meta.weather:?un", "meta.weather:*a*", "NOT meta.weather:r*", "meta.camera.model:x1*", "meta.weather:5?",
    "meta.lit:t*", "meta.lit:*e", "meta.lit:tru?",
    "meta.weather:/f.*/", "meta.weather:/[[:alpha:]]{3,4}/", "NOT meta.weather:/(sun|5.)/", "meta.lit:/t.*/", "meta.camera.model:/x[12].*/",
    "meta.weather:[a TO m]", "meta.weather:{fog TO sun]", "meta.weather:[* TO rain}", "meta.weather:[5 TO z]", "meta.speed:[1 TO a]",
    "meta.speed:[a TO *]", "meta.speed:[* TO 2]", "meta.tags:[* TO 5]", "meta.tags:[a TO *]", "meta.tags:[* TO b]", "meta.ok:[a TO *]",
    "meta.weather:[* TO *]", "meta.nothing:[a TO z]", "meta.big:[a TO *]",
    "meta.speed:1*", "meta.speed:*.25", "meta.speed:/[0-9]+/", "meta.ok:1", "meta.ok:/1|true/", "meta.camera.iso:?00",
    "id:f001", "NOT id:f001", 'id:"f002" OR meta.weather:fog', "id:[f010 TO f020}", "id:[f230 TO *]", "id:f011", "id:[* TO *]",
    "context_id:[v1 TO v3]", "context_id:{v10 TO *]", "context_id:[1 TO 5]", "context_id:/v1[0-5]?/", "NOT context_id:/v.*/",
    "context_id:v1", "context_id:v1*", "NOT context_id:v2?", "timestamp:[0 TO 0]", "num_frames:1", "saved:[0 TO *] AND context_id:*",
]
RULES = [
    [{"rois": [{"labels": ["car"]}]}], [{"rois": [{"labels": ["car", "person"]}]}], [{"rois": [{"labels": ["person"], "logic": "exclude"}]}],
    [{"rois": [{"labels": ["car"], "conf_range": [0.5, 1]}]}], [{"rois": [{"conf_range": [0.2, 0.4]}]}],
    [{"rois": [{"labels": ["unknown"]}]}], [{"rois": [{"labels": ["unknown"], "logic": "exclude"}]}],
    [{"rois": [{"labels": ["car"]}], "frame_query": "meta.weather:fog"}, {"rois": [{"labels": ["night"]}]}],
    [{"rois": [{"labels": ["bus"]}]}, {}],
    [{"rois": [{"labels": ["car"], "roi_query": "meta.occluded:true"}]}], [{"rois": [{"roi_query": "labels:car AND confidence:[0.5 TO 1]"}]}],
    [{"rois": [{"roi_query": "bus OR person"}]}], [{"rois": [{"roi_query": "meta.area:[10 TO 30]"}]}],
    [{"rois": [{"labels": ["car"], "roi_query": "NOT meta.area:*"}]}], [{"rois": [{"roi_query": "labels:c* AND NOT confidence:0.5"}]}],
    [{"rois": [{"roi_query": "meta.area:big", "logic": "exclude"}]}], [{"roi_query": "person", "frame_query": "meta.weather:fog"}],
    [{"rois": [{"roi_query": "confidence:* AND meta.area:{* TO 5}"}]}], [{"rois": [{"roi_query": "meta.nothing:x OR meta.occluded:t*"}]}],
    [{"sources_query": "sources.content_type:image/p*"}], [{"sources_query": "sources.width:[100 TO 700] AND sources.id:main"}],
    [{"sources_query": "NOT sources.width:*"}], [{"sources_query": "sources.meta.camera:left OR sources.timestamp:[* TO 100]"}],
    [{"sources_query": 'sources.uri:"s3://b/1.jpg"', "frame_query": "meta.weather:*"}, {"sources_query": "sources.uri:*t1*"}],
    [{"rois": [{"roi_query": "labels:[a TO m]"}]}], [{"rois": [{"roi_query": "labels:[car TO night] AND NOT labels:{bus TO day}"}]}],
    [{"rois": [{"roi_query": "/b.s/ OR labels:/[dn].*/"}]}], [{"rois": [{"labels": ["car"], "roi_query": "meta.occluded:/tr.e/"}]}],
    [{"sources_query": "sources.content_type:[a TO z]"}], [{"sources_query": "sources.id:{main TO *]"}],
    [{"sources_query": "sources.uri:/s3:..b.t1[0-9]*[.]png/"}], [{"sources_query": "sources.meta.camera:[left TO m]"}],
    [{"rois": [{"roi_query": "meta.area:/b.g|1.*/"}]}], [{"rois": [{"roi_query": "meta.area:*.5 OR meta.area:b?g"}]}],
]
REFUSED = [
    [{"frame_query": "meta.level:1*"}], [{"frame_query": "meta.big:/1.*/"}], [{"frame_query": "meta.tags:a*"}],
    [{"frame_query": "meta.tags.0:a"}], [{"frame_query": "id:f00*"}], [{"frame_query": "id:/f0.*/"}], [{"rois": [{"roi_query": "id:r1"}]}],
    [{"frame_query": "meta.big:5"}],
]


def frame(i: int) -> dict:
    meta = {"speed": [i % 30, (i % 30) + 0.25, str(i % 30), None][i % 4], "camera": {"model": f"x{100 * (i % 3)}", "iso": 100 * (i % 6)},
            "ok": [True, False, 1][i % 3], "lit": i % 2 == 0, "tags": [["a", "b"], "a", [], "b", "c"][i % 5], "big": 2**60 + i,
            "level": [1, 1.0][i % 2]}  # the same float written two ways: "1" and "1.0"
    if WEATHERS[i % 5] is not None:
        meta["weather"] = WEATHERS[i % 5]
    if i % 7 == 0:
        del meta["speed"]
    area = [i % 50, (i % 50) / 4, "big", None][i % 4]  # ROI metadata: numbers, a string, a JSON null
    rois = [{"labels": ["car", "person"] if i % 4 == 0 else ["car"], "poly": [0, 0, 5, 0, 5, 5], "confidence": (i % 10) / 10,
             "meta": {"area": area, "occluded": i % 2 == 0}},
            {"labels": ["bus"], "poly": [1, 1, 4, 1, 4, 4], "meta": {"area": i % 7}}] if i % 6 else []
    if i % 3 == 0:
        rois.append({"labels": ["night" if i % 2 else "day"]})  # a frame label
    if i % 10 == 1:
        rois.append({"poly": [0, 0, 2, 0, 2, 2], "meta": {"area": 99}})  # an ROI without a label
    sources = [{"id": "main", "uri": f"s3://b/{i}.jpg", "content_type": "image/jpeg", "width": 640 if i % 3 else None, "height": 480,
                "meta": {"camera": ["left", "right"][i % 2]}}]
    if i % 4 == 0:
        sources.append({"id": "thumb", "uri": f"s3://b/t{i}.png", "content_type": "image/png", "width": 64, "height": 48, "timestamp": i})
    return {"id": f"f{i:03d}", "context_id": f"v{i // 10}", "sources": sources, "meta": meta, "rois": rois}


@pytest.fixture
def published(settings):
    settings.HYPERDATA_PREVIEWS_AUTO = False
    settings.HYPERDATA_STATS_SYNC_FRAMES = 10**9
    cache.clear()
    draft = services.dataset_create(user=ACTOR, name="columns").versions.get()
    services.frames_add(user=ACTOR, version=draft, frames=[frame(i) for i in range(240)])
    services.frames_delete(user=ACTOR, version=draft, frame_ids=["f011", "f012"])
    settings.HYPERDATA_COLUMNS_FRAMES = 10**9  # no job: the tests build the columns themselves
    version = services.version_publish(user=ACTOR, version=draft)
    settings.HYPERDATA_COLUMNS_FRAMES = 200
    return version


def as_filters(item) -> list:
    return parse_filters([{"frame_query": item}] if isinstance(item, str) else item)


def test_the_columns_answer_every_filter_they_can_as_the_database_counts_it(published):
    columns_build(user=ACTOR, version=published)
    for item in ANSWERED + RULES + [[]]:
        filters = as_filters(item)
        counted = stat_selectors.counted_label_stats(user=ACTOR, version=published, filters=filters)
        fast = column_selectors.columnar_label_stats(user=ACTOR, version=published, filters=filters)
        if connection.vendor != "postgresql":
            assert fast is None, item  # SQLite keeps none: its JSON compares differently
            continue
        assert fast == counted, item
        assert column_selectors.columnar_count(user=ACTOR, version=published, filters=filters) == selectors.frames_count(
            user=ACTOR, version=published, filters=filters) == counted["frame_count"], item
    for item in REFUSED:
        assert column_selectors.columnar_count(user=ACTOR, version=published, filters=as_filters(item)) is None, item
    if connection.vendor == "postgresql":  # the comparisons were not all empty or all full: each kind of answer came up
        counts = {item: column_selectors.columnar_count(user=ACTOR, version=published, filters=as_filters(item)) for item in ANSWERED}
        assert counts["meta.nothing:*"] == 0 and counts["NOT meta.nothing:x"] == published.frame_count == 238
        assert 0 < counts["meta.speed:[10 TO 20]"] < counts["meta.speed:[10 TO *]"]
        assert counts["meta.weather:50"] == counts['meta.weather:"50"'] > 0  # the string "50"
        assert counts["meta.speed:10"] > counts['meta.speed:"10"'] > 0  # the number 10 and the string "10"
        assert counts["meta.tags:*"] == 238 and counts["meta.ok:[0 TO *]"] > counts["meta.ok:true"] > 0
        assert counts["meta.tags:[0 TO *]"] < counts["meta.tags:[a TO *]"] < 238  # [] sorts below everything, even null
        assert counts["meta.weather:/[[:alpha:]]{3,4}/"] > counts["meta.weather:/f.*/"] > 0  # PostgreSQL's own classes
        assert 0 < counts["meta.weather:[a TO m]"] < counts["meta.weather:[* TO rain}"] and 0 < counts["context_id:[v1 TO v3]"] < 238
        assert counts["meta.weather:[5 TO z]"] == 0  # a number bound: every string sorts below it
        assert counts["id:f001"] == 1 and counts["NOT id:f001"] == 237 and counts["id:f011"] == 0  # (f011 was deleted)
        assert counts["id:[f010 TO f020}"] == 8 and counts["id:[f230 TO *]"] == 10


def test_the_columns_answer_the_statistics_panels_as_the_database_counts_them(published):
    columns_build(user=ACTOR, version=published)
    answered = {}
    for key in ["speed", "camera.iso", "nothing", "weather", "ok", "tags"]:
        for item in ["", "meta.weather:fog", "NOT meta.speed:[3 TO 8]"]:
            for bins in (1, 7, 20):
                filters = as_filters(item) if item else []
                fast = column_selectors.columnar_distribution(user=ACTOR, version=published, parts=key.split("."), filters=filters, bins=bins, top=10)
                if fast is not None:
                    assert fast == selectors.meta_distribution(user=ACTOR, version=published, key=key, filters=filters, bins=bins, top=10), (key, item, bins)
                answered[key] = fast is not None
    for top in (1, 2, 3):  # cut among values of as many frames: the first in the database's collation are shown
        for item in ["", "meta.ok:true", "NOT meta.speed:[3 TO 8]"]:
            filters = as_filters(item) if item else []
            fast = column_selectors.columnar_distribution(user=ACTOR, version=published, parts=["weather"], filters=filters, bins=5, top=top)
            assert (fast is not None) == (connection.vendor == "postgresql")
            if fast is not None:
                assert fast == selectors.meta_distribution(user=ACTOR, version=published, key="weather", filters=filters, bins=5, top=top), (top, item)
                assert len(fast["values"]) == top and fast["other"] > 0
    # numbers (with strings and nulls beside them), an absent key, and categories of strings, booleans and numbers
    # are answered; values whose text is the database's (arrays) are not
    expected = {"speed": True, "camera.iso": True, "nothing": True, "weather": True, "ok": True, "tags": False}
    assert answered == (expected if connection.vendor == "postgresql" else dict.fromkeys(expected, False))
    for key in ["area", "occluded", "nothing"]:
        for item in ["", "meta.weather:fog", "meta.nothing:*"] + RULES[:3]:
            filters = as_filters(item) if item else []
            fast = column_selectors.columnar_roi_meta_distribution(user=ACTOR, version=published, parts=[key], filters=filters, bins=9)
            assert (fast is not None) == (connection.vendor == "postgresql"), (key, item)
            if fast is not None:
                assert fast == selectors.roi_distribution(user=ACTOR, version=published, key=f"rois.meta.{key}", filters=filters, bins=9), (key, item)
    for item in ["", "meta.weather:fog", "meta.nothing:*"] + RULES[:5]:
        for bins in (1, 20, 33):
            filters = as_filters(item) if item else []
            fast = column_selectors.columnar_confidence(user=ACTOR, version=published, filters=filters, bins=bins)
            assert (fast is not None) == (connection.vendor == "postgresql"), item
            if fast is not None:
                counted = selectors.roi_distribution(user=ACTOR, version=published, key="rois.confidence", filters=filters, bins=bins)
                assert fast == counted, (item, bins)


def test_publishing_a_large_version_copies_it_into_columns_that_answer_without_reading_its_frames(published, celery_worker_process):
    child = services.version_create(user=ACTOR, parent=published, name="next")
    services.frames_add(user=ACTOR, version=child, frames=[{**frame(500), "id": "f500"}])
    version = services.version_publish(user=ACTOR, version=child)
    jobs = Job.objects.filter(kind="columns", version=version)
    if connection.vendor != "postgresql":
        assert not jobs.exists() and not VersionColumns.objects.exists()
        return
    job = wait_for_job(jobs.get().pk, celery_worker_process)
    assert job.state == Job.DONE and job.result["frames"] == 239, job.result
    assert column_selectors.columns_local_path(version.pk).is_dir()  # the worker's host keeps a copy: this one
    fog = parse_filters([{"frame_query": "meta.weather:fog AND meta.speed:[0 TO 30]", "rois": [{"labels": ["car"]}]}])
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        count = stat_services.frames_count(user=ACTOR, version=version, filters=fog)
        stats = stat_services.label_stats(user=ACTOR, version=version, filters=fog)
    assert not [q["sql"] for q in queries.captured_queries if FrameRevision._meta.db_table in q["sql"]]
    assert count == selectors.frames_count(user=ACTOR, version=version, filters=fog) == stats["frame_count"] > 0
    assert stats == stat_selectors.counted_label_stats(user=ACTOR, version=version, filters=fog)


def test_a_draft_child_reads_what_its_replaced_frames_contributed_from_its_parents_columns(published, settings, monkeypatch):
    settings.HYPERDATA_STATS_DERIVE_FRAMES = 0
    monkeypatch.setattr(stats_delta, "COLUMNS_FROM_ROWS", 10)  # (a thousand by default: fewer are read as rows)
    columns_build(user=ACTOR, version=published)
    draft = services.version_create(user=ACTOR, parent=published, name="draft")
    services.frames_add(user=ACTOR, version=draft, frames=[{**frame(i + 1), "id": f"f{i:03d}"} for i in range(0, 90, 3)] + [frame(700)])
    services.frames_delete(user=ACTOR, version=draft, frame_ids=["f100", "f101"])
    replaced = set(FrameRevision.objects.visible_in(published).filter(frame_id__in=[f"f{i:03d}" for i in [*range(0, 90, 3), 100, 101]])
                   .values_list("pk", flat=True))
    for item in ANSWERED[:12] + [RULES[1], RULES[3], RULES[4]] + REFUSED[:1]:  # (one label: from the pairs a version keeps)
        filters = as_filters(item)
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            stats = stat_services.label_stats(user=ACTOR, version=fresh(draft), filters=filters)
            count = stat_services.frames_count(user=ACTOR, version=fresh(draft), filters=filters)
        assert stats == stat_selectors.counted_label_stats(user=ACTOR, version=fresh(draft), filters=filters), item
        assert count == selectors.frames_count(user=ACTOR, version=fresh(draft), filters=filters) == stats["frame_count"], item
        read_replaced = [q["sql"] for q in queries.captured_queries if revision_keys_named(q["sql"]) == replaced]
        assert bool(read_replaced) == (connection.vendor != "postgresql" or item in REFUSED), item
    for key in ["speed", "weather", "rois.confidence", "rois.meta.area"]:
        for item, rows_from in [("", 10), ("meta.weather:fog", 10), ("NOT meta.speed:[3 TO 8]", 10), ("meta.weather:fog", 10**9)]:
            monkeypatch.setattr(stats_delta, "COLUMNS_FROM_ROWS", rows_from)  # the last: from their rows (the check's check)
            filters = as_filters(item) if item else []
            cache.clear()
            with CaptureQueriesContext(connection) as queries:
                served = stat_services.meta_distribution(user=ACTOR, version=fresh(draft), key=key, filters=filters)
            count = selectors.roi_distribution if key.startswith("rois.") else selectors.meta_distribution
            assert served == count(user=ACTOR, version=fresh(draft), key=key, filters=filters), (key, item)
            if connection.vendor == "postgresql":
                read_replaced = [q["sql"] for q in queries.captured_queries if revision_keys_named(q["sql"]) == replaced]
                assert bool(read_replaced) == (rows_from > 10), (key, item)


def test_a_draft_with_more_changes_than_rows_allow_derives_through_its_parents_columns(published, settings, monkeypatch):
    settings.HYPERDATA_STATS_DERIVE_FRAMES = 0
    monkeypatch.setattr(stats_delta, "DELTA_MAX_OWN_ROWS", 5)
    monkeypatch.setattr(stats_delta, "DELTA_MAX_OWN_ROWS_COLUMNS", 100)
    columns_build(user=ACTOR, version=published)
    draft = services.version_create(user=ACTOR, parent=published, name="draft")
    services.frames_add(user=ACTOR, version=draft, frames=[{**frame(i + 1), "id": f"f{i:03d}"} for i in range(0, 90, 3)])  # 30 rows
    changes = stats_delta.draft_changes(user=ACTOR, version=fresh(draft))
    assert (changes is not None) == (connection.vendor == "postgresql")  # SQLite keeps no columns: 30 rows are too many
    filters = as_filters("meta.weather:/f.*/ OR meta.speed:[3 TO 8]")
    cache.clear()
    assert stat_services.label_stats(user=ACTOR, version=fresh(draft), filters=filters) == stat_selectors.counted_label_stats(
        user=ACTOR, version=fresh(draft), filters=filters)
    monkeypatch.setattr(stats_delta, "DELTA_MAX_OWN_ROWS_COLUMNS", 20)
    assert stats_delta.draft_changes(user=ACTOR, version=fresh(draft)) is None  # beyond both


def fresh(version):
    return type(version).objects.select_related("dataset", "parent").get(pk=version.pk)


def test_a_pattern_reads_a_number_as_the_database_writes_it(published):
    """A number stored as 1.50 (written by another client) reads "1.50" to a pattern, and is still 1.5 to a term."""
    if connection.vendor != "postgresql":  # SQLite keeps no columns
        columns_build(user=ACTOR, version=published)
        assert column_selectors.columnar_count(user=ACTOR, version=published, filters=as_filters("meta.speed:*.25")) is None
        return
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {FrameRevision._meta.db_table} SET meta = jsonb_set(meta, '{{speed}}', '1.50'::jsonb) "
                       "WHERE version_id = %s AND frame_id IN ('f001', 'f002')", [published.pk])
    columns_build(user=ACTOR, version=published)
    answers = {}
    for item in ["meta.speed:*.50", "meta.speed:/1[.]5.*/", "meta.speed:1.5", "meta.speed:[1.5 TO 1.5]"]:
        filters = as_filters(item)
        answers[item] = column_selectors.columnar_count(user=ACTOR, version=published, filters=filters)
        assert answers[item] == selectors.frames_count(user=ACTOR, version=published, filters=filters), item
    assert answers["meta.speed:*.50"] == 2 and answers["meta.speed:1.5"] == answers["meta.speed:[1.5 TO 1.5]"] == 2
    # the strings reach the database whole and in order, whichever separators they hold
    texts = column_selectors.DATABASE_TEXTS
    for strings in (["a\nb", "", "x\x1fy", "é", "a"], ["a\nb\x1f\x1e\x01", "", "a"], [""], ["", ""]):
        assert texts.matching(strings, [("~", "^a")]) == [i for i, s in enumerate(strings) if s.startswith("a")], strings
        assert texts.matching(strings, [("~", "^$")]) == [i for i, s in enumerate(strings) if not s], strings
        assert sorted(texts.ordered(strings)) == list(range(len(strings)))


def test_a_path_of_many_distinct_strings_is_left_to_the_database(published, monkeypatch):
    monkeypatch.setattr(columnar, "MAX_STRINGS", 3)  # weather has four: sun, rain, fog, "50"; camera.model three
    columns_build(user=ACTOR, version=published)
    fog, model = as_filters("meta.weather:fog"), as_filters("meta.camera.model:x100")
    assert column_selectors.columnar_count(user=ACTOR, version=published, filters=fog) is None
    answered = column_selectors.columnar_count(user=ACTOR, version=published, filters=model)
    assert answered == (selectors.frames_count(user=ACTOR, version=published, filters=model) if connection.vendor == "postgresql" else None)


def test_columns_in_an_earlier_stored_form_are_not_read_and_are_queued_again_at_start(published, settings):
    columns_build(user=ACTOR, version=published)
    fog = as_filters("meta.weather:fog")
    VersionColumns.objects.filter(version=published).update(stored_format=columnar_stored.FORMAT - 1)
    shutil.rmtree(column_selectors.columns_local_path(published.pk), ignore_errors=True)  # (kept under the form's number)
    column_selectors._loaded.clear()  # (a web process started after the upgrade)
    assert column_selectors.columnar_count(user=ACTOR, version=published, filters=fog) is None
    queued = services.columns_refresh(user=ACTOR)
    jobs = Job.objects.filter(kind="columns", version=published)
    if connection.vendor != "postgresql":
        assert queued == 0 and not jobs.exists()
        return
    assert queued == 1 and jobs.count() == 1
    assert services.columns_refresh(user=ACTOR) == 1 and jobs.count() == 1  # the same job, still queued
    columns_build(user=ACTOR, version=published)  # (as the job does)
    assert services.columns_refresh(user=ACTOR) == 0
    assert column_selectors.columnar_count(user=ACTOR, version=published, filters=fog) == selectors.frames_count(
        user=ACTOR, version=published, filters=fog) > 0


def test_a_host_keeps_a_copy_of_the_columns_that_its_web_processes_map_without_the_database(published):
    fog = as_filters("meta.weather:fog AND NOT meta.speed:[3 TO 8]")
    local = column_selectors.columns_local_path(published.pk)
    columns_build(user=ACTOR, version=published)
    if connection.vendor != "postgresql":
        assert stat_services.frames_count(user=ACTOR, version=published, filters=fog) == selectors.frames_count(user=ACTOR, version=published, filters=fog)
        return
    assert local.is_dir()
    shutil.rmtree(local)
    cache.clear()
    column_selectors._loaded.clear()  # a web process of a host without a copy: the first question keeps one
    counted = selectors.frames_count(user=ACTOR, version=published, filters=fog)
    assert stat_services.frames_count(user=ACTOR, version=published, filters=fog) == counted > 0 and local.is_dir()
    cache.clear()
    column_selectors._loaded.clear()  # the next process maps that copy: no bytes fetched, the same answers
    with CaptureQueriesContext(connection) as queries:
        assert stat_services.frames_count(user=ACTOR, version=published, filters=fog) == counted
        assert stat_services.label_stats(user=ACTOR, version=published, filters=fog) == stat_selectors.counted_label_stats(
            user=ACTOR, version=published, filters=fog)
    assert not [q["sql"] for q in queries.captured_queries if VersionColumns._meta.db_table in q["sql"]]
    assert isinstance(column_selectors._loaded[published.pk].row_tally, columnar.np.memmap)  # mapped, derived arrays too
    services.dataset_delete(user=ACTOR, dataset=published.dataset)
    assert not local.exists()


def test_a_disk_that_refuses_the_copy_costs_speed_only(published, settings, tmp_path):
    (tmp_path / "file").write_text("")
    settings.HYPERDATA_COLUMNS_DIR = tmp_path / "file" / "columns"  # below a file: nothing can be written there
    columns_build(user=ACTOR, version=published)
    fog = as_filters("meta.weather:fog")
    cache.clear()
    column_selectors._loaded.clear()
    assert stat_services.frames_count(user=ACTOR, version=published, filters=fog) == selectors.frames_count(user=ACTOR, version=published, filters=fog)
    answered = column_selectors.columnar_count(user=ACTOR, version=published, filters=fog)
    assert (answered is not None) == (connection.vendor == "postgresql")  # from the database's copy


def test_a_draft_cannot_be_copied_into_columns(published):
    draft = services.version_create(user=ACTOR, parent=published, name="draft")
    with pytest.raises(Conflict) as refused:
        columns_build(user=ACTOR, version=draft)
    assert "draft" in str(refused.value)


def test_the_stored_form_reads_back_the_same(monkeypatch):
    np = columnar.np
    table = columnar.MetaTable(2, {"a.b": columnar.MetaColumn(np.array([3, 0], dtype=np.int8), np.array([1.5, 0]), ["x"], False, {1.5: "1.50"}),
                                   "d": columnar.MetaColumn(np.array([3, 3], dtype=np.int8), np.array([1, 1]), [], True, None)}, True, ["c"])
    rois = columnar.MetaTable(1, {}, False)
    columns = columnar.Columns(
        frames=2, pks=np.array([7, 9]), annotated=np.array([True, False]), labels=["car"], meta=table, fields=rois, roi_meta=rois,
        sources=rois, source_frame=np.array([0], dtype=np.int32),
        roi_meta_frame=np.array([1], dtype=np.int32), row_frame=np.array([0], dtype=np.int32), row_roi=np.array([0], dtype=np.int32),
        row_label=np.array([0], dtype=np.int32), row_confidence=np.array([float("nan")]), row_frame_label=np.array([False]),
        row_first=np.array([True]), roi_frame=np.array([0], dtype=np.int32), roi_position=np.array([0], dtype=np.int32))
    with monkeypatch.context() as patched:
        patched.setattr(columnar_stored, "FORMAT", columnar_stored.FORMAT - 1)
        earlier = to_bytes(columns)
    assert from_bytes(earlier) is None  # a copy in another format is not read
    back = from_bytes(to_bytes(columns))
    assert back.frames == 2 and back.labels == ["car"] and list(back.annotated) == [True, False] and list(back.roi_meta_frame) == [1]
    assert back.meta.complete and back.meta.dropped == ["c"] and back.roi_meta.size == 1 and not back.roi_meta.complete
    column = back.meta.paths["a.b"]
    assert list(column.values) == [1.5, 0] and list(column.kinds) == [3, 0] and column.strings == ["x"] and not column.exact
    assert column.number_texts == {1.5: "1.50"} and back.meta.paths["d"].number_texts is None
    assert columnar.label_stats(back, np.array([True, True])) == {
        "frame_count": 2, "annotated_frame_count": 1, "labels": [{"label": "car", "roi_count": 1, "frame_count": 1, "frame_label_count": 0}]}
