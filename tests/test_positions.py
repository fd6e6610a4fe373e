"""Pages at any offset (issue 13, item 7): the position index of a published version, the checkpoints of drafts and
filtered views, `offset`/`page` in the API, and the cursor <-> page number checks the Frames tab relies on.

Every jump is compared with walking the same order page by page with keyset cursors (the reference)."""
import pytest

from frames import selectors, services
from frames.filters import parse_filters
from frames.models import FramePosition
from frames.selectors import SYSTEM as ACTOR
from frames.selectors import FrameQuery
from frames.selectors.positions import POSITION_STEP, STORED_SORTS
from frames.services import positions as position_services
from .clients import api_client

pytestmark = pytest.mark.django_db

TOTAL = 2 * POSITION_STEP + 37  # 237 frames: checkpoints at 99 and 199, and a tail


def frames(n=TOTAL, prefix="f"):
    """Frames whose orders all differ: contexts of 7, timestamps repeating, `speed` missing on every 5th, the
    source's width on every 4th."""
    return [
        {
            "id": f"{prefix}{i:04d}",
            "context_id": f"ctx{(i * 37) % 7}",
            "timestamp": (i * 7919) % 50,
            "meta": {"speed": (i * 13) % 41} if i % 5 else {},
            "sources": [{"id": "default", "uri": f"file:///data/{i}.jpg", **({"width": 100 + (i * 3) % 17} if i % 4 else {})}],
            "rois": [{"labels": ["car" if i % 3 else "person"], "poly": [0, 0, 5, 0, 5, 5]}],
        }
        for i in range(n)
    ]


@pytest.fixture(autouse=True)
def no_previews(settings):
    settings.HYPERDATA_PREVIEWS_AUTO = False  # no preview tasks queued for the session's worker: only pages are wanted


@pytest.fixture
def draft():
    dataset = services.dataset_create(user=ACTOR, name="positions")
    version = dataset.versions.get()
    services.frames_add(user=ACTOR, version=version, frames=frames())
    return selectors.version_get(user=ACTOR, version_id=version.id)


@pytest.fixture
def published(draft):
    services.version_publish(user=ACTOR, version=draft)
    return selectors.version_get(user=ACTOR, version_id=draft.id)


def walked(version, query: FrameQuery) -> list[str]:
    """Every frame id of the order, walked with keyset cursors (the reference)."""
    return [row.frame_id for page in selectors.frame_pages(user=ACTOR, version=version, query=query) for row in page]


def jumped(version, query: FrameQuery, offset: int):
    page = position_services.frames_page_at(user=ACTOR, version=version, query=query, offset=offset)
    return [row.frame_id for row in page.frames], page


OFFSETS = [0, 1, 37, 99, 100, 101, 150, 199, 200, 201, 230, 236]
QUERIES = [
    FrameQuery(sort=sort, descending=descending, limit=limit)
    for sort in ("context", "id", "timestamp", "saved", "width", "meta.speed")
    for descending in (False, True)
    for limit in (7, 100)
]


@pytest.mark.parametrize("state", ["draft", "published"])
def test_a_page_at_any_offset_is_the_page_cursors_walk_to(request, state):
    version = request.getfixturevalue(state)
    for query in QUERIES:
        reference = walked(version, query)
        assert len(reference) == TOTAL
        for offset in OFFSETS:
            got, page = jumped(version, query, offset)
            assert got == reference[offset: offset + query.limit], (query.sort, query.descending, query.limit, offset)
            assert page.total == TOTAL
            # and its next cursor goes on exactly where the order goes on
            if page.next_cursor:
                following = selectors.frames_browse(user=ACTOR, version=version, query=query.page(cursor=page.next_cursor))
                assert [r.frame_id for r in following.frames] == reference[offset + query.limit: offset + 2 * query.limit]


def test_publishing_stores_the_checkpoints_of_every_column_sort(published, draft):
    for sort in STORED_SORTS:
        keys = dict(FramePosition.objects.filter(version=published, sort=sort).values_list("position", "key"))
        assert sorted(keys) == [POSITION_STEP - 1, 2 * POSITION_STEP - 1]
        reference = walked(published, FrameQuery(sort=sort))
        assert keys[POSITION_STEP - 1][-1] == reference[POSITION_STEP - 1]  # the key ends with that frame's id
    positions = position_services.frame_positions(user=ACTOR, version=published, query=FrameQuery(sort="timestamp"))
    assert positions.stored  # read from the table, not computed


@pytest.mark.parametrize("state", ["draft", "published"])
def test_filtered_and_sampled_views_jump_too(request, state):
    version = request.getfixturevalue(state)
    for query in [
        FrameQuery(filters=tuple(parse_filters([{"rois": [{"labels": ["car"]}]}])), sort="timestamp", limit=10),
        FrameQuery(filters=tuple(parse_filters([{"frame_query": "meta.speed:[5 TO 30]"}])), sort="id", descending=True, limit=9),
        FrameQuery(filters=tuple(parse_filters([{"rois": [{"labels": ["car"]}]}])), sort="meta.speed", limit=25),
    ]:
        reference = walked(version, query)
        assert 0 < len(reference) < TOTAL
        for offset in [0, 5, 99, 100, 101, len(reference) - 1, len(reference), len(reference) + 5]:
            got, page = jumped(version, query, offset)
            assert got == reference[offset: offset + query.limit]
            assert page.total == len(reference)


def test_a_draft_that_changes_is_counted_again(draft):
    query = FrameQuery(sort="id", limit=10)
    assert jumped(draft, query, 230)[0] == walked(draft, query)[230:240]
    services.frames_add(user=ACTOR, version=draft, frames=frames(5, prefix="a"))  # five frames before every other id
    draft = selectors.version_get(user=ACTOR, version_id=draft.id)
    reference = walked(draft, query)
    got, page = jumped(draft, query, 230)
    assert got == reference[230:240] and page.total == TOTAL + 5


@pytest.mark.parametrize("state", ["draft", "published"])
def test_a_cursor_is_checked_against_the_page_number_it_claims(request, state):
    version = request.getfixturevalue(state)
    for query in [FrameQuery(sort="context", limit=10), FrameQuery(sort="meta.speed", descending=True, limit=10)]:
        page = query
        for number in range(1, 25):
            result = selectors.frames_browse(user=ACTOR, version=version, query=page)
            if not result.next_cursor:
                break
            page = query.page(cursor=result.next_cursor)
            checked = position_services.page_checked(user=ACTOR, version=version, query=page, page=number + 1, compute=True)
            assert checked is True
            assert position_services.page_checked(user=ACTOR, version=version, query=page, page=number + 2, compute=True) is False
            offset, total = position_services.cursor_offset(user=ACTOR, version=version, query=page)
            assert (offset, total) == (number * 10, TOTAL)


def api_page(client, version, **params):
    return client.get(f"/api/versions/{version.id}/frames/", params)


@pytest.mark.parametrize("state", ["draft", "published"])
def test_api_offset_and_page(request, state, admin_user):
    version = request.getfixturevalue(state)
    client = api_client(admin_user)
    reference = walked(version, FrameQuery(sort="timestamp", descending=True))
    body = api_page(client, version, sort="timestamp", order="desc", offset=150, limit=20).json()
    assert [f["id"] for f in body["results"]] == reference[150:170]
    assert body["count"] == TOTAL and body["offset"] == 150
    assert "offset=" not in body["next"] and "cursor=" in body["next"]
    following = client.get(body["next"]).json()
    assert [f["id"] for f in following["results"]] == reference[170:190]
    by_page = api_page(client, version, sort="timestamp", order="desc", page=8, limit=20).json()
    assert [f["id"] for f in by_page["results"]] == reference[140:160] and by_page["offset"] == 140
    filtered = api_page(client, version, label="person", offset=30, limit=10).json()
    person = walked(version, FrameQuery(filters=tuple(parse_filters([{"rois": [{"labels": ["person"]}]}])), limit=10))
    assert [f["id"] for f in filtered["results"]] == person[30:40] and filtered["count"] == len(person)
    past = api_page(client, version, offset=TOTAL, limit=10).json()
    assert past["results"] == [] and past["count"] == TOTAL and past["next"] is None


@pytest.mark.parametrize("params, field", [
    ({"offset": "-1"}, "offset"),
    ({"offset": "ten"}, "offset"),
    ({"offset": "1.5"}, "offset"),
    ({"page": "0"}, "page"),
    ({"page": "x"}, "page"),
    ({"offset": "10", "page": "2"}, "page"),
    ({"offset": "10", "cursor": "WyJmMDAwMSJd"}, "offset"),
    ({"page": "2", "cursor": "WyJmMDAwMSJd"}, "page"),
])
def test_api_refuses_bad_offsets_naming_the_field(draft, admin_user, params, field):
    response = api_page(api_client(admin_user), draft, **params)
    assert response.status_code == 400
    assert field in response.content.decode()
