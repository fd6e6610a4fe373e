"""Split Preview's overlap (frames.selectors.overlap): the one query for the frames two views both show, when a
URL can say it, lists exactly the intersection of what each view lists; when it cannot (a sample, two `changed`
that no one value says), the count by intersection is the same number."""
from __future__ import annotations

import pytest
from django.http import QueryDict
from django.utils.http import urlencode

from frames import selectors, services
from frames.selectors import SYSTEM as ACTOR
from frames.selectors import FrameQuery, parse_frame_query

pytestmark = pytest.mark.django_db


@pytest.fixture
def child():
    """A published root of 60 frames and a draft child that edits 5, adds 5 and deletes 5."""
    frames = [{"id": f"f{i:02d}", "sources": [{"uri": f"s3://b/{i}.jpg"}], "meta": {"city": ["Berlin", "Paris", "Rome"][i % 3], "n": i},
               "rois": [{"labels": [["car"], ["person"], ["car", "person"], ["bike"]][i % 4], "poly": [0, 0, 1, 0, 1, 1]}]} for i in range(60)]
    root = services.dataset_create(user=ACTOR, name="overlap").versions.get()
    services.frames_add(user=ACTOR, version=root, frames=frames)
    _, draft = services.version_snapshot(user=ACTOR, version=root)
    services.frames_update(user=ACTOR, version=draft, frames=[{"id": f"f{i:02d}", "meta": {"city": "Rome", "n": i}} for i in range(5)])
    services.frames_add(user=ACTOR, version=draft, frames=[{**frames[i], "id": f"new{i}"} for i in range(5)])
    services.frames_delete(user=ACTOR, version=draft, frame_ids=[f"f{i:02d}" for i in range(50, 55)])
    return draft


def ids(version, query: FrameQuery) -> set[str]:
    return {r.frame_id for page in selectors.frame_pages(user=ACTOR, version=version, query=query.page(limit=1000)) for r in page}


def q(**params) -> FrameQuery:
    return parse_frame_query(QueryDict(urlencode(params, doseq=True)))


CASES = [
    ({"frame_query": "meta.city:Berlin OR meta.city:Paris"}, {"label": "car"}),
    ({"filters": '[{"rois": [{"labels": ["car"]}]}, {"frame_query": "meta.n:[0 TO 9]"}]'},
     {"filters": '[{"rois": [{"labels": ["person"]}]}, {"frame_query": "meta.city:Rome"}]', "roi_query": "NOT labels:bike"}),
    ({}, {"label": "bike"}),
    ({}, {}),
    ({"changed": "any"}, {"changed": "edited", "label": "car"}),
    ({"changed": "added"}, {"frame_query": "meta.city:Berlin"}),
    ({"changed": "any"}, {"changed": "deleted"}),
]


@pytest.mark.parametrize("a, b", CASES)
def test_the_overlap_query_lists_the_intersection(child, a, b):
    both = selectors.overlap_query(q(**a), q(**b))
    assert both is not None
    expected = ids(child, q(**a)) & ids(child, q(**b))
    assert ids(child, both) == expected
    assert services.frames_count(user=ACTOR, version=child, filters=both.filters, changed=both.changed) == len(expected)
    assert selectors.frames_overlap_count(user=ACTOR, version=child, a=q(**a), b=q(**b)) == len(expected)


@pytest.mark.parametrize("a, b", [
    ({"sample_by": "meta.city", "sample_n": "4"}, {"label": "car"}),
    ({"changed": "added"}, {"changed": "edited"}),
    ({}, {"changed": "any"}),  # "any" lists deleted frames, the view does not
    ({"filters": "[" + ",".join('{"frame_query": "meta.n:%d"}' % i for i in range(9)) + "]"},
     {"filters": "[" + ",".join('{"frame_query": "meta.n:%d"}' % i for i in range(4, 12)) + "]"}),  # 72 blocks: too long a URL
])
def test_without_a_query_the_overlap_is_counted_by_intersection(child, a, b):
    assert selectors.overlap_query(q(**a), q(**b)) is None
    expected = ids(child, q(**a)) & ids(child, q(**b))
    assert selectors.frames_overlap_count(user=ACTOR, version=child, a=q(**a), b=q(**b)) == len(expected)
    assert services.frames_overlap_count(user=ACTOR, version=child, a=q(**a), b=q(**b)) == len(expected)
