"""Browsing a version: filters, sorting, keyset paging, Group by context, statistics, pinned query counts."""
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from frames import selectors, services
from frames.exceptions import ServiceError
from frames.filters import parse_filters
from frames.selectors import SYSTEM as ACTOR
from frames.selectors import FrameQuery
from .clients import api_client

pytestmark = pytest.mark.django_db


def frame(frame_id, *, context="ctx", ts=0, rois=(), meta=None, sources=None):
    return {
        "id": frame_id,
        "context_id": context,
        "timestamp": ts,
        "meta": meta or {},
        "sources": sources or [{"id": "default", "uri": f"file:///data/{frame_id}.jpg", "content_type": "image/jpeg", "width": 640}],
        "rois": list(rois),
    }


def roi(*labels, confidence=None, poly=True):
    data = {"labels": list(labels)}
    if poly:
        data["poly"] = [0, 0, 5, 0, 5, 5]
    if confidence is not None:
        data["confidence"] = confidence
    return data


@pytest.fixture
def version():
    dataset = services.dataset_create(user=ACTOR, name="browse")
    draft = dataset.versions.get()
    services.frames_add(user=ACTOR, 
        version=draft,
        frames=[
            frame("a", context="v1", ts=200, rois=[roi("car", "red", confidence=0.9)], meta={"weather": "sunny", "speed": 50}),
            frame("b", context="v1", ts=100, rois=[roi("car", confidence=0.3), roi("red")], meta={"weather": "rain", "speed": 10}),
            frame("c", context="v2", ts=0, rois=[roi("person", confidence=0.8), roi("night", poly=False)], meta={"weather": "sunny", "speed": 70, "city": "Paris"}),
            frame("d", context="v0", ts=0, meta={"speed": 55.5}, sources=[
                {"id": "front", "uri": "s3://cams/front.mp4", "content_type": "video/mp4", "width": 1920},
                {"id": "rear", "uri": "s3://cams/rear.mp4", "content_type": "video/mp4", "width": 640},
            ]),
        ],
    )
    return selectors.version_get(user=ACTOR, version_id=draft.id)


def ids(version, filters=None, **kwargs):
    query = FrameQuery(filters=tuple(parse_filters(filters)), **kwargs)
    return [f.frame_id for f in selectors.frames_browse(user=ACTOR, version=version, query=query).frames]


def test_default_order_is_context_then_timestamp(version):
    assert ids(version) == ["d", "b", "a", "c"]


@pytest.mark.parametrize(
    "filters, expected",
    [
        ([{"rois": [{"labels": ["car"]}]}], ["b", "a"]),
        ([{"rois": [{"labels": ["car", "red"]}]}], ["a"]),  # one ROI must carry both labels
        ([{"rois": [{"labels": ["car"], "conf_range": [0.5, 1]}]}], ["a"]),
        ([{"rois": [{"labels": ["car"], "logic": "exclude"}]}], ["d", "c"]),
        ([{"label_rules": [{"label": "person", "must_not": True}]}], ["d", "b", "a"]),
        ([{"frame_query": "meta.weather:sunny"}], ["a", "c"]),
        ([{"frame_query": "meta.speed:[10 TO 55]"}], ["b", "a"]),
        ([{"frame_query": "meta.speed:{10 TO *]"}], ["d", "a", "c"]),
        ([{"frame_query": "meta.weather:sunny AND NOT meta.city:Paris"}], ["a"]),
        ([{"frame_query": "meta.weather:su*"}], ["a", "c"]),
        ([{"frame_query": "meta.city:*"}], ["c"]),
        ([{"frame_query": "meta.weather:(rain OR sunny) AND meta.speed:[60 TO 100]"}], ["c"]),
        ([{"frame_query": "id:d OR timestamp:200"}], ["d", "a"]),
        ([{"sources_query": "sources.content_type:video*"}], ["d"]),
        ([{"sources_query": "sources.id:rear AND sources.width:[1000 TO *]"}], []),  # one source must match all
        ([{"sources_query": "sources.uri:*front*"}], ["d"]),
        ([{"rois": [{"labels": ["car"]}], "frame_query": "meta.weather:rain"}], ["b"]),  # AND inside a filter
        ([{"frame_query": "meta.weather:rain"}, {"rois": [{"labels": ["person"]}]}], ["b", "c"]),  # OR across
    ],
)
def test_filters(version, filters, expected):
    assert ids(version, filters) == expected
    assert selectors.frames_count(user=ACTOR, version=version, filters=parse_filters(filters)) == len(expected)


@pytest.mark.parametrize(
    "filters, field, words",
    [
        ([{"frame_query": "meta.speed:[10 TO"}], "filters[0].frame_query", "end of expression"),
        ([{"frame_query": "sunny"}], "filters[0].frame_query", "has no field"),
        ([{"frame_query": "weather:sunny"}], "filters[0].frame_query", "unknown field"),
        ([{"frame_query": "timestamp:soon"}], "filters[0].frame_query", "is a number"),
        ([{"sources_query": "meta.x:1"}], "filters[0].sources_query", "sources."),
        ([{"rois": [{"labels": ["car"], "conf_range": [0.9, 0.1]}]}], "filters[0].rois[0].conf_range", "min <= max"),
        ([{"rois": [{"labels": "car", "logic": "maybe"}]}], "filters[0].rois[0].logic", "include"),
        ([{"colour": 1}], "filters[0].colour", "unknown"),
    ],
)
def test_bad_filters_say_where(filters, field, words):
    with pytest.raises(ServiceError) as info:
        parse_filters(filters)
    assert info.value.errors[0]["field"] == field
    assert words in info.value.errors[0]["message"]


@pytest.mark.parametrize(
    "sort, descending, expected",
    [
        ("id", False, ["a", "b", "c", "d"]),
        ("id", True, ["d", "c", "b", "a"]),
        ("timestamp", False, ["c", "d", "b", "a"]),
        ("context", True, ["c", "a", "b", "d"]),
        ("meta.speed", False, ["b", "a", "d", "c"]),
        ("meta.speed", True, ["c", "d", "a", "b"]),
        ("meta.city", False, ["c", "a", "b", "d"]),  # frames without the key come last
    ],
)
def test_sort_and_keyset_pages_agree(version, sort, descending, expected):
    assert ids(version, sort=sort, descending=descending) == expected
    assert paged_ids(version, sort=sort, descending=descending, limit=1) == expected


def paged_ids(version, **query) -> list[str]:
    """The frame ids of every page, each page asked for with the cursor the one before gave (as Next does)."""
    paged, cursor = [], None
    while True:
        page = selectors.frames_browse(user=ACTOR, version=version, query=FrameQuery(cursor=cursor, **query))
        paged += [f.frame_id for f in page.frames]
        cursor = page.next_cursor
        if not cursor:
            return paged


def test_contexts_group_by_url(version):
    page = selectors.contexts_list(user=ACTOR, version=version, query=FrameQuery(limit=2))
    assert [(c.context_id, c.frame_count, c.first_frame.frame_id) for c in page.contexts] == [("v0", 1, "d"), ("v1", 2, "b")]
    rest = selectors.contexts_list(user=ACTOR, version=version, query=FrameQuery(cursor=page.next_cursor))
    assert [(c.context_id, c.frame_count) for c in rest.contexts] == [("v2", 1)] and rest.next_cursor is None
    filtered = selectors.contexts_list(user=ACTOR, version=version, query=FrameQuery(filters=tuple(parse_filters([{"frame_query": "meta.weather:sunny"}]))))
    assert [(c.context_id, c.frame_count, c.first_frame.frame_id) for c in filtered.contexts] == [("v1", 1, "a"), ("v2", 1, "c")]


def test_stats_count_rois_and_frames_per_label(version):
    stats = selectors.label_stats(user=ACTOR, version=version)
    by_label = {entry["label"]: entry for entry in stats["labels"]}
    assert stats["frame_count"] == 4 and stats["annotated_frame_count"] == 3
    assert (by_label["car"]["roi_count"], by_label["car"]["frame_count"]) == (2, 2)
    assert (by_label["red"]["roi_count"], by_label["red"]["frame_count"]) == (2, 2)
    assert (by_label["night"]["frame_label_count"], by_label["night"]["roi_count"]) == (1, 0)
    published = services.version_publish(user=ACTOR, version=version)
    assert selectors.stored_stats(published) == stats  # computed once, kept with the frozen version
    child = services.version_create(user=ACTOR, parent=published, name="child")
    services.frames_delete(user=ACTOR, version=child, frame_ids=["a"])
    child_stats = selectors.label_stats(user=ACTOR, version=selectors.version_get(user=ACTOR, version_id=child.id))
    assert {e["label"]: e["roi_count"] for e in child_stats["labels"]}["car"] == 1
    assert child_stats["frame_count"] == 3


@pytest.fixture
def api():
    """A client signed in as `q`, a user without staff rights: owner of the datasets it creates below."""
    return api_client("q")


def many_frames(n):
    return [frame(f"f{i:03d}", context=f"c{i % 7}", ts=i, rois=[roi("car"), roi("tree")], meta={"i": i}) for i in range(n)]


@pytest.mark.parametrize(
    "url, expected_queries",
    [
        # lists are paginated with their total: the count, then the page (the dataset first, with the user's role)
        ("/api/datasets/", 2),
        ("/api/datasets/{d}/versions/", 3),
        # version (with the user's role), page of frames, their previews (+ the count of a filtered view; one
        # label's count is the version's kept statistics, read with the version)
        ("/api/versions/{v}/frames/?limit=50", 3),
        ("/api/versions/{v}/frames/?limit=50&label=car&count=true", 3),
        ("/api/versions/{v}/frames/?limit=50&label=car&label=tree&count=true", 4),
        # a JSON sort reads the frames with the value, then (when the page is not full yet) those without
        ("/api/versions/{v}/frames/?limit=5&sort=meta.i&order=desc", 3),
        ("/api/versions/{v}/frames/?limit=100&sort=meta.i&order=desc", 4),
        ("/api/versions/{v}/contexts/", 4),
        ("/api/versions/{v}/stats/", 1),
    ],
)
@pytest.mark.parametrize("n", [10, 60])
def test_list_endpoints_have_pinned_query_counts(api, url, expected_queries, n):
    dataset = services.dataset_create(user=api.user, name="pinned")
    draft = dataset.versions.get()
    services.frames_add(user=api.user, version=draft, frames=many_frames(n))
    published, child = services.version_snapshot(user=api.user, version=draft)
    services.frames_add(user=api.user, version=child, frames=many_frames(3))
    version = published if "stats" in url else child
    url = url.format(d=dataset.id, v=version.id)
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url)
    assert response.status_code == 200, response.content
    assert len(queries) == expected_queries, "\n".join(q["sql"][:200] for q in queries)


def test_api_paging_follows_next_links(api):
    dataset = services.dataset_create(user=api.user, name="paging")
    draft = dataset.versions.get()
    services.frames_add(user=api.user, version=draft, frames=many_frames(25))
    url, seen = f"/api/versions/{draft.id}/frames/?limit=10&label=tree", []
    while url:
        body = api.get(url).json()
        seen += [f["id"] for f in body["results"]]
        url = body["next"]
    assert len(seen) == 25 and len(set(seen)) == 25
    filters = json.dumps([{"frame_query": "meta.i:[0 TO 4]"}])
    body = api.get(f"/api/versions/{draft.id}/frames/", {"filters": filters, "count": "true"}).json()
    assert body["count"] == 5


def test_published_group_by_url_tallies_are_computed_once(version):
    published = services.version_publish(user=ACTOR, version=version)
    first = services.contexts_page(user=ACTOR, version=published, query=FrameQuery())
    with CaptureQueriesContext(connection) as queries:
        again = services.contexts_page(user=ACTOR, version=published, query=FrameQuery())
    assert len(queries) == 0  # tallies and first frames come from the cache
    assert [(c.context_id, c.frame_count, c.first_frame.frame_id) for c in again.contexts] == [
        (c.context_id, c.frame_count, c.first_frame.frame_id) for c in first.contexts
    ]


@pytest.mark.parametrize("sort", ["context", "timestamp", "saved", "id"])
@pytest.mark.parametrize("descending", [False, True])
def test_keyset_pages_through_repeated_sort_values_match_the_full_order(sort, descending):
    # Images: every frame has timestamp 0, one write gives them one `saved`, and a context holds several frames at
    # one timestamp. On PostgreSQL a page after a cursor seeks with a row comparison, (timestamp, frame_id) >
    # (0, 'f017'); elsewhere with the expanded form. Either way the pages are the whole order, each frame once.
    draft = services.dataset_create(user=ACTOR, name=f"repeats {sort} {descending}").versions.get()
    services.frames_add(user=ACTOR, version=draft, frames=[frame(f"f{i:03d}", context=f"c{i % 4}", ts=0 if i < 40 else i % 3) for i in range(60)])
    services.frames_add(user=ACTOR, version=draft, frames=[frame(f"g{i:03d}", context="c1", ts=0) for i in range(15)])  # a later `saved`
    everything = ids(draft, sort=sort, descending=descending, limit=500)
    assert len(everything) == 75 and paged_ids(draft, sort=sort, descending=descending, limit=7) == everything


@pytest.mark.parametrize("sort", ["width", "height"])
@pytest.mark.parametrize("descending", [False, True])
def test_size_sorts_page_through_repeats_and_frames_without_a_size(sort, descending):
    # A size sort reads the frames with the size (seeking its index on PostgreSQL), then those without, where a
    # size of null belongs too.
    sizes = [640, 1280, 1920, None, "absent"]
    draft = services.dataset_create(user=ACTOR, name=f"sizes {sort} {descending}").versions.get()
    made = []
    for i in range(70):
        size = sizes[(i * 7) % len(sizes)]
        made.append(frame(f"f{i:03d}", ts=0))
        source = {"id": "default", "uri": f"file:///d/{i}.jpg"}
        if size != "absent":
            source[sort] = size
        made[-1]["sources"] = [source]
    services.frames_add(user=ACTOR, version=draft, frames=made)
    valued = {f["id"]: f["sources"][0].get(sort) for f in made if f["sources"][0].get(sort) is not None}
    with_size = sorted(valued, key=lambda frame_id: (valued[frame_id], frame_id), reverse=descending)
    without = sorted((f["id"] for f in made if f["id"] not in valued), reverse=descending)
    expected = with_size + without
    assert ids(draft, sort=sort, descending=descending, limit=500) == expected
    for limit in (1, 7, 30):
        assert paged_ids(draft, sort=sort, descending=descending, limit=limit) == expected
