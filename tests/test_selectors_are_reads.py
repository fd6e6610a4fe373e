"""Selectors have no side effects: calling every public selector writes no row, touches no cache key and queues
no task. The table below must name every function frames.selectors exports, so a new selector is checked too."""
import inspect

import pytest
from celery import Celery
from django.core.cache import cache
from django.db import connection
from django.http import QueryDict
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from frames import selectors, services
from frames.filters import parse_filters
from frames.models import CloudCredential, Job, MediaPreview
from frames.selectors import FrameQuery
from frames.selectors.previews import source_request
from frames.selectors.query import encode_cursor

from .conftest import TESTDATA_DIR

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER")
CACHE_WRITES = ("set", "add", "delete", "incr", "decr", "set_many", "delete_many", "clear", "touch", "get_or_set")


@pytest.fixture
def world(admin_user):
    """A dataset with a published version with frames (two contexts, labels, metadata, a video source) and a
    draft child, a job and a rendition row."""
    dataset = services.dataset_create(user=admin_user, name="reads")
    root = dataset.versions.get()
    frames = [{"id": f"f{i}", "context_id": f"c{i % 2}", "timestamp": i, "meta": {"speed": i},
               "sources": [{"uri": f"s3://b/{i}.mp4", "content_type": "video/mp4", "timestamp": i}],
               "rois": [{"labels": ["car"], "poly": [0, 0, 1, 0, 1, 1]}]} for i in range(6)]
    services.frames_add(user=admin_user, version=root, frames=frames)
    published, draft = services.version_snapshot(user=admin_user, version=root)
    job = Job.objects.create(kind="previews_count", user=admin_user, version=published, dataset=dataset, state=Job.DONE,
                             result={"total": 6, "done": 0, "failed": 0, "pending": 6})
    services.credential_create(user=admin_user, data={"provider": "s3", "name": "minio", "host": "127.0.0.1:9000",
                                                       "key": "k", "secret": "s", "use_tls": False})
    sequential = services.dataview_create(user=admin_user, data={"queries": [{"version": published.pk}, {"version": draft.pk, "roi_query": "car"}]})
    drawn = services.dataview_create(user=admin_user, data={"queries": [{"version": draft.pk}], "iteration_order": "random"})
    return {"user": admin_user, "dataset": dataset, "published": published, "draft": draft, "job": job, "frames": frames,
            "dataviews": (sequential, drawn)}


def _credential_get(user):
    row = CloudCredential.objects.first()
    return selectors.credential_get(user=user, credential_id=row.pk)


def _context_cursor(context_id):
    return encode_cursor([context_id])


def calls(w):
    user, published, draft = w["user"], w["published"], w["draft"]
    row = selectors.frame_get(user=user, version=draft, frame_id="f1")
    query = FrameQuery(limit=2)
    key = source_request(w["frames"][0]["sources"][0]).key

    cursored = FrameQuery(cursor=selectors.cursor_of(row, sort="context"))

    def positions():
        return selectors.positions_compute(user=user, version=draft, query=FrameQuery())

    def drafted():  # the draft's order through its parent's stored checkpoints (a draft child of a published version)
        return selectors.draft_positions(user=user, version=draft, query=FrameQuery())

    def delta():
        with override_settings(HYPERDATA_STATS_DERIVE_FRAMES=0):  # derived at any size
            return selectors.delta_of(user=user, version=draft, changes=selectors.draft_changes(user=user, version=draft))

    return {
        "allows": lambda: selectors.allows(user, published, selectors.OWNER),
        "role_of": lambda: selectors.role_of(user=user, dataset_id=w["dataset"].pk),
        "credentials_list": lambda: list(selectors.credentials_list(user=user)),
        "credential_get": lambda: _credential_get(user),
        "credential_for": lambda: selectors.credential_for(user=user, provider="s3", host="127.0.0.1:9000", bucket="b"),
        "credentials_provider": lambda: selectors.credentials_provider(user=user)(scheme="s3", host="127.0.0.1:9000", bucket="b"),
        "context_frames": lambda: selectors.context_frames(user=user, version=draft, context_id="c1", query=query),
        "contexts_before": lambda: selectors.contexts_before(user=user, version=draft, context_id="c1", query=query),
        "context_positions_compute": lambda: selectors.context_positions_compute(user=user, version=draft, query=query),
        "context_cursor_at": lambda: selectors.context_cursor_at(
            user=user, version=draft, query=query, positions=selectors.ContextPositions(2, ()), offset=1),
        "context_cursor_offset": lambda: selectors.context_cursor_offset(
            user=user, version=draft, query=FrameQuery(cursor=_context_cursor("c0")), positions=selectors.ContextPositions(2, ("c0",))),
        "contexts_list": lambda: selectors.contexts_list(user=user, version=published, query=query),
        "frame_neighbours": lambda: selectors.frame_neighbours(user=user, version=draft, frame=row, query=query),
        "previous_page_cursor": lambda: selectors.previous_page_cursor(user=user, version=draft, first_row=row, query=query),
        "upload_uris_in_use": lambda: selectors.upload_uris_in_use(user=user, dataset_id=w["dataset"].pk, prefixes=("s3://b/",)),
        "dataviews_list": lambda: list(selectors.dataviews_list(user=user)),
        "dataview_get": lambda: selectors.dataview_get(user=user, dataview_id=w["dataviews"][0].pk),
        "dataview_count": lambda: [selectors.dataview_count(user=user, dataview=v) for v in w["dataviews"]],
        "dataview_frames": lambda: [selectors.dataview_frames(user=user, dataview=v, limit=3) for v in w["dataviews"]],
        "dataview_queries": lambda: selectors.dataview_queries(user=user, dataview=w["dataviews"][0]),
        "dataview_query_ids": lambda: [selectors.dataview_query_ids(user=user, version=q.version, frame_query=q.frame_query)
                                       for q in selectors.dataview_queries(user=user, dataview=w["dataviews"][0])],
        "dataset_get": lambda: selectors.dataset_get(user=user, dataset_id=w["dataset"].pk),
        "datasets_list": lambda: list(selectors.datasets_list(user=user)),
        "members_list": lambda: selectors.members_list(user=user, dataset=w["dataset"]),
        "version_get": lambda: selectors.version_get(user=user, version_id=draft.pk),
        "version_lineage": lambda: selectors.version_lineage(user=user, version=draft),
        "versions_list": lambda: list(selectors.versions_list(user=user, dataset=w["dataset"])),
        "cursor_of": lambda: selectors.cursor_of(row, sort="meta.speed"),
        "frame_get": lambda: selectors.frame_get(user=user, version=published, frame_id="f2"),
        "frames_export": lambda: [
            "".join(selectors.frames_export(user=user, version=draft, query=query, export_format=f)) for f in selectors.EXPORT_FORMATS
        ],
        "frame_pages": lambda: list(selectors.frame_pages(user=user, version=draft, query=query)),
        "frame_to_dict": lambda: selectors.frame_to_dict(row, version_id=draft.pk),
        "frames_browse": lambda: selectors.frames_browse(user=user, version=draft, query=FrameQuery(sort="meta.speed")),
        "frames_count": lambda: selectors.frames_count(user=user, version=draft),
        "frames_overlap_count": lambda: selectors.frames_overlap_count(
            user=user, version=draft, a=selectors.parse_frame_query(QueryDict("label=car")),
            b=selectors.parse_frame_query(QueryDict("sample_by=meta.speed&sample_n=2"))),
        "overlap_query": lambda: selectors.overlap_query(FrameQuery(), FrameQuery(changed="any")),
        "job_get": lambda: selectors.job_get(user=user, job_id=w["job"].pk),
        "projects_list": lambda: list(selectors.projects_list(user=user)),
        "project_get": lambda: selectors.project_get(user=user, project_id=w["dataset"].project_id),
        "may_manage_project": lambda: selectors.may_manage_project(user, w["dataset"].project),
        "jobs_list": lambda: list(selectors.jobs_list(user=user, version=published)),
        "frames_to_dicts": lambda: selectors.frames_to_dicts([row], user=user, version=draft),
        "latest_previews_count": lambda: selectors.latest_previews_count(user=user, version=published),
        "previews_count": lambda: selectors.previews_count(user=user, version=draft),
        "source_pyramid": lambda: selectors.source_pyramid(user=user, version=draft, frame_id="f1", source_id="default"),
        "source_pyramids": lambda: selectors.source_pyramids(user=user, version=draft, frame={"id": "big", "sources": [
            {"uri": (TESTDATA_DIR / "tiff" / "large_image" / "grey10kx5k.tif").as_uri(), "width": 10000, "height": 5000}]}),
        "rendition_wait": lambda: selectors.rendition_wait(user=user, dataset=w["dataset"], key=key, timeout=0),
        "decode_cursor": lambda: selectors.decode_cursor(selectors.cursor_of(row, sort="id"), ["frame_id"]),
        "parse_frame_query": lambda: selectors.parse_frame_query(QueryDict("label=car&sort=id")),
        "label_stats": lambda: selectors.label_stats(user=user, version=draft),
        "meta_distribution": lambda: selectors.meta_distribution(user=user, version=published, key="speed"),
        "meta_keys": lambda: selectors.meta_keys(user=user, version=draft),
        "stored_stats": lambda: selectors.stored_stats(published),
        "kept_stats": lambda: selectors.kept_stats(draft),
        "positions_stored": lambda: selectors.positions_stored(user=user, version=published, sort="context"),
        "positions_compute": lambda: selectors.positions_compute(user=user, version=draft, query=FrameQuery()),
        "page_at": lambda: selectors.page_at(user=user, version=draft, query=FrameQuery(), positions=positions(), offset=2),
        "cursor_at": lambda: selectors.cursor_at(user=user, version=draft, query=FrameQuery(), positions=positions(), offset=2),
        "cursor_is_at": lambda: selectors.cursor_is_at(user=user, version=draft, query=cursored, positions=positions(), offset=1),
        "cursor_offset": lambda: selectors.cursor_offset(user=user, version=draft, query=cursored, positions=positions()),
        "draft_positions": lambda: selectors.draft_positions(user=user, version=draft, query=FrameQuery()),
        "draft_net": lambda: selectors.draft_net(user=user, version=draft, query=FrameQuery(), positions=drafted()),
        "draft_page_at": lambda: selectors.draft_page_at(user=user, version=draft, query=FrameQuery(), positions=drafted(), offset=2),
        "draft_cursor_at": lambda: selectors.draft_cursor_at(user=user, version=draft, query=FrameQuery(), positions=drafted(), offset=2),
        "draft_cursor_is_at": lambda: selectors.draft_cursor_is_at(user=user, version=draft, query=cursored, positions=drafted(), offset=1),
        "draft_cursor_offset": lambda: selectors.draft_cursor_offset(user=user, version=draft, query=cursored, positions=drafted()),
        "inherited_stats": lambda: selectors.inherited_stats(draft),
        "counted_label_stats": lambda: selectors.counted_label_stats(user=user, version=draft),
        "roi_distribution": lambda: selectors.roi_distribution(user=user, version=published, key="rois.confidence"),
        "roi_meta_keys": lambda: selectors.roi_meta_keys(user=user, version=draft),
        "delta_of": delta,
        "draft_changes": lambda: selectors.draft_changes(user=user, version=draft),
        "count_from_parent": lambda: selectors.count_from_parent(user=user, version=draft, delta=delta(), parent_count=6),
        "label_stats_from_parent": lambda: selectors.label_stats_from_parent(
            user=user, version=draft, delta=delta(), parent_answer=selectors.label_stats(user=user, version=published)),
        "distribution_from_parent": lambda: selectors.distribution_from_parent(
            user=user, version=draft, delta=delta(), key="speed", bins=20, top=20,
            parent_answer=selectors.meta_distribution(user=user, version=published, key="speed")),
        "kept_label_filter_stats": lambda: selectors.kept_label_filter_stats(draft, parse_filters([{"rois": [{"labels": ["car"]}]}])),
        "frame_step": lambda: selectors.frame_step(user=user, version=draft, frame=row, query=FrameQuery(changed="any"),
                                                   step=selectors.Step("previous", 10, 0.5, "context")),
        "parse_step": lambda: selectors.parse_step(QueryDict("direction=previous&step=10&min_confidence=0.5")),
        "frame_changes": lambda: selectors.frame_changes(user=user, version=draft, rows=[row]),
        "parent_frame": lambda: selectors.parent_frame(user=user, version=draft, revision=row),
        "meta_schema_get": lambda: selectors.meta_schema_get(user=user, version=draft),
        "meta_field_values": lambda: selectors.meta_field_values(user=user, version=draft, path="speed"),
        "meta_schema_validator": lambda: selectors.meta_schema_validator(draft)({"id": "f1", "meta": {"speed": 1}}),
    }


def test_the_table_names_every_selector(world):
    exported = {name for name in selectors.__all__ if inspect.isfunction(getattr(selectors, name))}
    assert exported == set(calls(world)), "add the new selector to calls() above"


def test_selectors_write_nothing(world, monkeypatch):
    cache_writes, sent = [], []
    for name in CACHE_WRITES:
        real = getattr(cache, name)
        monkeypatch.setattr(cache, name, lambda *a, _real=real, _name=name, **k: (cache_writes.append(_name), _real(*a, **k))[1])
    real_send = Celery.send_task
    monkeypatch.setattr(Celery, "send_task", lambda self, *a, **k: (sent.append(a[0]), real_send(self, *a, **k))[1])
    rows_before = (Job.objects.count(), MediaPreview.objects.count())
    for name, call in calls(world).items():
        with CaptureQueriesContext(connection) as queries:
            call()
        writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(WRITES)]
        assert not writes, f"{name} wrote: {writes[:2]}"
        assert not cache_writes and not sent, f"{name}: cache {cache_writes}, tasks {sent}"
    assert (Job.objects.count(), MediaPreview.objects.count()) == rows_before
