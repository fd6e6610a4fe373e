"""Pages at any offset of a draft child of a published version, read through the parent's stored checkpoints and
the draft's own rows (selectors.draft_positions; issue 13, item 7).

The draft has edits (ROIs, timestamps, contexts), deletions, additions whose ids, contexts and timestamps sort
at the start, in the middle and at the end of every order, a frame added then deleted and an edited frame then
deleted. Every jumped page is compared with the naive ORDER BY/OFFSET page and with walking the order with keyset
cursors, for every stored sort in both directions, and so are the page labels of pages reached by cursor."""
import pytest
from django.db import connection

from frames import selectors, services
from frames.models import FramePosition, FrameRevision
from frames.selectors import SYSTEM as ACTOR
from frames.selectors import FrameQuery
from frames.selectors.draft_positions import draft_positions
from frames.selectors.frames import keyset_order, query_rows
from frames.selectors.positions import POSITION_STEP, STORED_SORTS
from frames.selectors.query import sort_columns
from frames.services import positions as position_services
from .clients import api_client
from .test_positions import frames, walked

pytestmark = pytest.mark.django_db

PARENT = 10 * POSITION_STEP + 23  # 1,023 frames: ten checkpoints and a tail


@pytest.fixture(autouse=True)
def no_previews(settings):
    settings.HYPERDATA_PREVIEWS_AUTO = False


def added(prefix: str, count: int, context: str, timestamp: int) -> list[dict]:
    return [{"id": f"{prefix}{i:03d}", "context_id": context, "timestamp": timestamp + i % 3,
             "sources": [{"id": "default", "uri": f"file:///data/{prefix}{i}.jpg"}],
             "rois": [{"labels": ["car"], "poly": [0, 0, 5, 0, 5, 5]}]} for i in range(count)]


@pytest.fixture
def draft():
    """A draft child of a published version of PARENT frames, with 88 own rows (under a tenth of the parent)."""
    dataset = services.dataset_create(user=ACTOR, name="draft-positions")
    services.frames_add(user=ACTOR, version=dataset.versions.get(), frames=frames(PARENT))
    _, child = services.version_snapshot(user=ACTOR, version=dataset.versions.get())
    edit = [{"id": f"f{i:04d}", "rois": [{"labels": ["edited"], "poly": [0, 0, 5, 0, 5, 5]}]} for i in range(3, PARENT, 61)]
    edit += [{"id": f"f{i:04d}", "timestamp": 49 - i % 7} for i in range(5, PARENT, 97)]
    edit += [{"id": f"f{i:04d}", "context_id": "ctx3"} for i in range(9, PARENT, 211)]
    services.frames_update(user=ACTOR, version=child, frames=edit)
    services.frames_delete(user=ACTOR, version=child, frame_ids=[f"f{i:04d}" for i in range(17, PARENT, 73)] + ["f0003"])
    services.frames_add(user=ACTOR, version=child, frames=(
        added("a", 8, "a-first", 0) + added("f0500-new", 8, "ctx4", 25) + added("zz", 20, "zz-last", 99) + added("gone", 1, "ctx1", 3)
    ))
    services.frames_delete(user=ACTOR, version=child, frame_ids=["gone000"])  # an own addition deleted: no tombstone
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # what autovacuum does for a real database: without statistics, every
            cursor.execute("ANALYZE frames_frame")  # page of a draft child (an anti-join) is planned as a scan
    child = selectors.version_get(user=ACTOR, version_id=child.id)
    own = FrameRevision.objects.filter(version_id=child.pk)
    assert 0 < own.count() <= PARENT // 10 and own.filter(deleted=True).count() == 15
    return child


def naive(version, query: FrameQuery, offset: int) -> list[str]:
    ordering = [keyset_order(n, query.descending) for n in sort_columns(query.sort)]
    return [row.frame_id for row in query_rows(version, query).order_by(*ordering)[offset: offset + query.limit]]


def offsets(total: int) -> list[int]:
    """The start, every checkpoint's neighbourhood (where an anchor changes), some in between, the end and past it."""
    near = {c + d for c in range(0, total, POSITION_STEP) for d in (-8, -1, 0, 1, 8)}
    return sorted({o for o in near | set(range(0, total, 41)) | {total - 1, total - 7} if o >= 0} | {total, total + 3})


def test_every_jumped_page_of_a_draft_is_the_naive_page_and_the_walked_page(draft):
    total = draft.frame_count
    for sort in STORED_SORTS:
        for descending in (False, True):
            reference = walked(draft, FrameQuery(sort=sort, descending=descending, limit=500))
            assert len(reference) == total
            for query in [FrameQuery(sort=sort, descending=descending, limit=limit) for limit in (7, 100)]:
                derived = position_services.draft_frame_positions(user=ACTOR, version=draft, query=query)
                assert derived is not None and derived.total == total, sort  # read through the parent, not computed
                for offset in offsets(total):
                    page = position_services.frames_page_at(user=ACTOR, version=draft, query=query, offset=offset)
                    got = [row.frame_id for row in page.frames]
                    where = (sort, query.order, query.limit, offset)
                    assert got == reference[offset: offset + query.limit] == naive(draft, query, offset), where
                    assert (page.offset, page.total) == (offset, total), where
                    if page.next_cursor:  # Next goes on exactly where the order goes on
                        following = selectors.frames_browse(user=ACTOR, version=draft, query=query.page(cursor=page.next_cursor))
                        assert [r.frame_id for r in following.frames] == reference[offset + query.limit: offset + 2 * query.limit], where


def test_the_label_of_a_page_reached_by_cursor_is_right_without_computing_anything(draft):
    for query in [FrameQuery(sort=sort, descending=descending, limit=60) for sort in STORED_SORTS for descending in (False, True)]:
        page, number = query, 1
        while True:
            result = selectors.frames_browse(user=ACTOR, version=draft, query=page)
            if not result.next_cursor:
                break
            page, number = query.page(cursor=result.next_cursor), number + 1
            assert position_services.page_checked(user=ACTOR, version=draft, query=page, page=number) is True
            assert position_services.page_checked(user=ACTOR, version=draft, query=page, page=number + 1) is False
            assert position_services.cursor_offset(user=ACTOR, version=draft, query=page) == ((number - 1) * 60, draft.frame_count)
        assert number == -(-draft.frame_count // 60)


def test_an_edit_shows_in_the_next_jump(draft):
    query = FrameQuery(sort="id", descending=True, limit=10)
    assert [r.frame_id for r in position_services.frames_page_at(user=ACTOR, version=draft, query=query, offset=320).frames] \
        == walked(draft, query)[320:330]  # what the draft adds at each checkpoint is kept now
    services.frames_add(user=ACTOR, version=draft, frames=added("f0700x", 3, "ctx0", 1))
    services.frames_delete(user=ACTOR, version=draft, frame_ids=["f0650", "f0651"])
    draft = selectors.version_get(user=ACTOR, version_id=draft.id)
    reference = walked(draft, query)
    for offset in (0, 315, 320, 330, len(reference) - 5):
        page = position_services.frames_page_at(user=ACTOR, version=draft, query=query, offset=offset)
        assert [r.frame_id for r in page.frames] == reference[offset: offset + 10] and page.total == len(reference)


def test_a_large_edit_and_a_parent_without_its_index_fall_back_to_computed_checkpoints(draft):
    query = FrameQuery(sort="timestamp", limit=25)
    FramePosition.objects.filter(version_id=draft.parent_id, sort="timestamp").delete()  # as while the publish job runs
    assert draft_positions(user=ACTOR, version=draft, query=query) is None
    assert draft_positions(user=ACTOR, version=draft, query=FrameQuery(sort="context")) is not None
    services.frames_add(user=ACTOR, version=draft, frames=added("big", PARENT // 10, "ctx2", 7))  # now over a tenth
    draft = selectors.version_get(user=ACTOR, version_id=draft.id)
    assert draft_positions(user=ACTOR, version=draft, query=FrameQuery(sort="context")) is None
    for query in (query, FrameQuery(sort="context", descending=True, limit=25)):
        reference = walked(draft, query)
        for offset in (0, 99, 400, len(reference) - 1):
            page = position_services.frames_page_at(user=ACTOR, version=draft, query=query, offset=offset)
            assert [r.frame_id for r in page.frames] == reference[offset: offset + 25] and page.total == len(reference)


def test_api_offset_and_page_on_a_draft(draft, admin_user):
    client = api_client(admin_user)
    reference = walked(draft, FrameQuery(sort="saved", descending=True))
    body = client.get(f"/api/versions/{draft.id}/frames/", {"sort": "saved", "order": "desc", "offset": 555, "limit": 20}).json()
    assert [f["id"] for f in body["results"]] == reference[555:575]
    assert body["count"] == draft.frame_count and body["offset"] == 555
    by_page = client.get(f"/api/versions/{draft.id}/frames/", {"sort": "saved", "order": "desc", "page": 52, "limit": 20}).json()
    assert [f["id"] for f in by_page["results"]] == reference[1020:1040] and by_page["offset"] == 1020


def test_a_draft_of_a_published_child_reads_through_both_lineages(draft):
    """The draft's parent is itself a child (its view: the root's frames and its own); the grandchild's jumps
    still match the walked order, tombstones of the parent's own frames and re-added frames included."""
    parent, child = services.version_snapshot(user=ACTOR, version=draft)
    services.frames_update(user=ACTOR, version=child, frames=[{"id": "zz000", "timestamp": 1}, {"id": "f0100", "context_id": "a-first"}])
    services.frames_delete(user=ACTOR, version=child, frame_ids=["a001", "f0200"])
    services.frames_add(user=ACTOR, version=child, frames=added("f0017", 1, "ctx5", 4) + added("m", 5, "ctx2", 30))  # f0017000 is new
    child = selectors.version_get(user=ACTOR, version_id=child.id)
    for query in [FrameQuery(sort=sort, descending=descending, limit=50) for sort in STORED_SORTS for descending in (False, True)]:
        assert position_services.draft_frame_positions(user=ACTOR, version=child, query=query) is not None
        reference = walked(child, query)
        assert len(reference) == child.frame_count
        for offset in (0, 1, 99, 100, 101, 500, 999, 1000, len(reference) - 1):
            page = position_services.frames_page_at(user=ACTOR, version=child, query=query, offset=offset)
            assert [r.frame_id for r in page.frames] == reference[offset: offset + 50] == naive(child, query, offset), (query.sort, offset)
