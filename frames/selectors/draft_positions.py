"""Pages at any position of a draft child of a published version, from the parent's stored checkpoints.

A draft child shows its parent's view minus the parent's frames its own revisions replace or delete ("shadowed"),
plus its own non-deleted revisions (FrameRevision.objects.visible_in, frames.changes). So, counting in the query's
direction, for any sort key K:

    draft frames at or before K = parent frames at or before K - shadowed ones at or before K + own ones at or before K

At a stored checkpoint of the parent (selectors.positions: every STEP-th frame's key, stored at publish) the first
term is its position; the other two are counts over the draft's own rows (the `version_id` index: they cost what
the edit's size costs, not the version's). A jump takes the last checkpoint before the offset in the draft (of
the few the edit can move across it, all counted in one query over the own rows and the parent frames they
replace), seeks after it and walks the rest: fewer than STEP frames plus the own ones sorting between two
checkpoints.
Nothing is computed over the whole draft, so nothing needs keeping, and an edit costs the next jump nothing.

A large edit (more than MAX_OWN_ROWS own rows, or MAX_OWN_SHARE of the parent's frames) is served like any other
draft (positions_compute, kept until the draft changes): the counts and the walk between checkpoints grow with it.
Only the orders a published version stores (unfiltered, by columns). Everything here reads.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import BigIntegerField, CharField, Count, F, Q, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from ..changes import own_rows, published_parent, replaced_in_parent
from ..models import DatasetVersion, FramePosition
from .access import VIEWER, require
from .frames import keyset_after, keyset_order
from .positions import (
    POSITION_STEP, PageAt, Positions, cursor_found, cursor_offset, page_after, positions_stored, skipped_cursor, stored_order,
)
from .query import COLUMN_TYPES, FrameQuery, decode_cursor, sort_columns

MAX_OWN_ROWS = 50_000
MAX_OWN_SHARE = 0.10


@dataclass(frozen=True)
class DraftPositions:
    """A draft's order through its `parent`'s `stored` checkpoints (ascending): `shadowed` is how many parent
    frames the draft's own rows replace or delete, `own` how many own frames it shows; `net[j]` (draft_net),
    what the draft adds (own frames less shadowed ones) at or before the j-th checkpoint met in the order's
    direction."""

    parent: DatasetVersion
    stored: Positions
    shadowed: int
    own: int
    net: tuple[int, ...] | None = None

    @property
    def total(self) -> int:
        return self.stored.total - self.shadowed + self.own


def draft_positions(*, user, version: DatasetVersion, query: FrameQuery) -> DraftPositions | None:
    """The query's order of a draft through its published parent's stored checkpoints; None when that does not
    apply (not a draft child of a published version with its index stored, a filtered or JSON order, a large edit)."""
    require(user, version, VIEWER)
    parent = published_parent(version) if stored_order(query) else None
    if parent is None:
        return None
    rows = own_rows(version).aggregate(all=Count("pk"), shown=Count("pk", filter=Q(deleted=False)), tombstones=Count("pk", filter=Q(deleted=True)))
    if rows["all"] > min(MAX_OWN_ROWS, MAX_OWN_SHARE * parent.frame_count):
        return None
    # Every own row but an addition replaces one parent frame (tombstones only ever replace one: frames.changes),
    # so the counts the versions keep say how many: no pass over the parent's frames for it.
    shadowed = parent.frame_count + rows["shown"] - version.frame_count
    if not rows["tombstones"] <= shadowed <= rows["all"]:
        return None  # the kept counts disagree with the rows: trust only a count
    stored = positions_stored(user=user, version=parent, sort=query.sort)
    if stored is None:
        return None  # the publish job has not stored them yet
    return DraftPositions(parent, stored, shadowed, rows["shown"])


def draft_cursor_at(*, user, version: DatasetVersion, query: FrameQuery, positions: DraftPositions, offset: int) -> str | None:
    """The cursor after which the page at `offset` starts (None: it is the first page)."""
    require(user, version, VIEWER)
    key, skip = _anchor(version, query, positions, offset)
    return skipped_cursor(version, query, key, skip)


def draft_page_at(*, user, version: DatasetVersion, query: FrameQuery, positions: DraftPositions, offset: int) -> PageAt:
    """The page of `query.limit` frames starting at `offset` (empty past the end), with the order's total."""
    find = lambda: draft_cursor_at(user=user, version=version, query=query, positions=positions, offset=offset)  # noqa: E731
    return page_after(user=user, version=version, query=query, total=positions.total, offset=offset, find_cursor=find)


def draft_cursor_is_at(*, user, version: DatasetVersion, query: FrameQuery, positions: DraftPositions, offset: int) -> bool:
    """Whether the query's cursor starts the page at `offset` (a page number in a URL, checked)."""
    find = lambda: draft_cursor_at(user=user, version=version, query=query, positions=positions, offset=offset)  # noqa: E731
    return cursor_found(query, total=positions.total, offset=offset, find_cursor=find)


def draft_cursor_offset(*, user, version: DatasetVersion, query: FrameQuery, positions: DraftPositions) -> int:
    """The offset of the first frame after the query's cursor: the parent's (selectors.positions.cursor_offset,
    over its stored checkpoints) moved by the draft's own rows at or before the cursor."""
    require(user, version, VIEWER)
    if not query.cursor:
        return 0
    parent_count = cursor_offset(user=user, version=positions.parent, query=query, positions=positions.stored)
    return _draft_count(version, query, positions, decode_cursor(query.cursor, sort_columns(query.sort)), parent_count)


def draft_net(*, user, version: DatasetVersion, query: FrameQuery, positions: DraftPositions) -> tuple[int, ...]:
    """What the draft adds at or before each checkpoint, in the query's direction, from one query: the own frames
    (+1), the parent frames they replace (-1) and the checkpoints' stored keys, in the query's order by the
    database (its collation, as the pages are ordered), each checkpoint after the frames of its very key; the
    running sum at a checkpoint is its net. It costs what the edit's size costs (each replaced frame is one
    probe into the parent) plus reading the checkpoints."""
    require(user, version, VIEWER)
    return _net(version, query, positions)


def _net(version: DatasetVersion, query: FrameQuery, positions: DraftPositions) -> tuple[int, ...]:
    names = sort_columns(query.sort)
    marks = FramePosition.objects.filter(version_id=positions.parent.pk, sort=query.sort)
    marks = marks.annotate(**{f"_c{i}": _stored_value(i, name) for i, name in enumerate(names)}, _weight=Value(0), _tag=F("position"))
    own = own_rows(version).filter(deleted=False).annotate(_weight=Value(1), _tag=Value(-1))
    shadowed = replaced_in_parent(version, positions.parent).annotate(_weight=Value(-1), _tag=Value(-1))
    rows = own.values_list("_weight", "_tag", *names).union(
        shadowed.values_list("_weight", "_tag", *names), marks.values_list("_weight", "_tag", *[f"_c{i}" for i in range(len(names))]),
        all=True,
    ).order_by(*[keyset_order(name, query.descending) for name in names], "_tag")
    added, at = 0, {}
    for weight, tag, *_ in rows:  # fetched at once (a server-side cursor is planned for its first rows)
        if tag < 0:
            added += weight
        else:
            at[tag] = added
    checkpoints = _Checkpoints(positions.stored.total, query.descending)
    return tuple(at[checkpoints[j][0]] for j in range(len(checkpoints)))


def _anchor(version: DatasetVersion, query: FrameQuery, positions: DraftPositions, offset: int) -> tuple[list | None, int]:
    """(the parent checkpoint to seek after, None for the start; how many draft frames to walk after it) for the
    page at `offset`: the last checkpoint with fewer than `offset` draft frames at or before it. (Not at most: a
    checkpoint may be a frame the draft changed or deleted, and the cursor must name the frame before the page,
    as Next's does.)"""
    net = positions.net if positions.net is not None else _net(version, query, positions)
    checkpoints = _Checkpoints(positions.stored.total, query.descending)
    past = _first(len(checkpoints), lambda j: checkpoints[j][1] + net[j] >= offset)
    if past == 0:
        return None, offset
    position, parent_count = checkpoints[past - 1]
    return positions.stored.key_at(position), offset - (parent_count + net[past - 1])


@dataclass(frozen=True)
class _Checkpoints:
    """Checkpoint j met in the `descending` direction as (its stored position, the parent frames at or before
    it), without a list (a million frames have ten thousand)."""

    total: int
    descending: bool

    def __len__(self) -> int:
        return self.total // POSITION_STEP

    def __getitem__(self, j: int) -> tuple[int, int]:
        if self.descending:
            position = (len(self) - j) * POSITION_STEP - 1
            return position, self.total - position  # the frames with keys >= the checkpoint's
        position = (j + 1) * POSITION_STEP - 1
        return position, position + 1


def _stored_value(index: int, column: str):
    """A stored checkpoint key's value of `column`, typed as the column is (so the database orders both alike)."""
    text = KeyTextTransform(str(index), "key")
    return Cast(text, BigIntegerField()) if COLUMN_TYPES[column] is int else Cast(text, CharField())


def _draft_count(version: DatasetVersion, query: FrameQuery, positions: DraftPositions, key: list, parent_count: int) -> int:
    """The draft frames at or before `key` in the query's direction, from the parent's count there."""
    not_after = ~keyset_after(sort_columns(query.sort), key, descending=query.descending)
    shadowed = replaced_in_parent(version, positions.parent).filter(not_after).count() if positions.shadowed else 0
    own = own_rows(version).filter(not_after, deleted=False).count() if positions.own else 0
    return parent_count - shadowed + own


def _first(count: int, passes) -> int:
    """The first j in [0, count) for which the monotone `passes(j)` holds; `count` if none does."""
    low, high = 0, count
    while low < high:
        middle = (low + high) // 2
        if passes(middle):
            high = middle
        else:
            low = middle + 1
    return low
