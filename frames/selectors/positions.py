"""Pages at any position: `offset` and `page` in the API, the page box and the position slider of the Frames tab.

A keyset cursor reaches page N by walking N-1 pages. To jump there at once we keep checkpoints: the sort key of
every POSITION_STEP-th frame of an order (positions STEP-1, 2*STEP-1, ...). The page at offset k is then a
keyset seek after the nearest checkpoint before k plus a skip of fewer than STEP rows (two index walks of at
most STEP + limit rows), so page 9,000 costs what page 1 costs, and it is the very page the cursors walk to.

- A published version never changes: its unfiltered orders by column (STORED_SORTS) are stored in
  FramePosition when it is published (services.positions); a descending page reads them from the other end.
- A draft child of a published version reads those stored checkpoints too, moved by what its own rows add
  (selectors.draft_positions).
- Any other order (a draft, a filter, a sample, a JSON sort) gets its checkpoints from one pass over the frames
  it matches (`positions_compute`, as costly as counting them), kept by services.positions while the version
  is unchanged.

Everything here reads; storing and caching are services.positions'.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, Window
from django.db.models.functions import RowNumber

from ..models import DatasetVersion, FramePosition
from .access import VIEWER, require
from .frames import cursor_of, first_rows, frames_browse, keyset_after, keyset_order, ordered_parts, query_rows, sort_values
from .query import META_SORT_ALIAS, FrameQuery, decode_cursor, encode_cursor, json_sort_expression, json_sort_path, sort_columns

POSITION_STEP = 100
STORED_SORTS = ("context", "id", "timestamp", "saved")


@dataclass(frozen=True)
class Positions:
    """Checkpoints of one order: `total` frames; `keys[i]` is the sort key of the frame at position
    (i + 1) * STEP - 1 counted in the `descending` direction. With `stored`, keys are read from FramePosition
    one at a time instead (a published version's unfiltered order)."""

    total: int
    descending: bool
    keys: tuple = ()
    stored: tuple[str, str] | None = None  # (version id, sort)

    def key_at(self, position: int) -> list | None:
        if self.stored:
            version_id, sort = self.stored
            rows = FramePosition.objects.filter(version_id=version_id, sort=sort, position=position).values_list("key", flat=True)
            return next(iter(rows[:1]), None)  # unordered: .first() would add ORDER BY id, and a slower plan
        index = (position + 1) // POSITION_STEP - 1
        return list(self.keys[index]) if 0 <= index < len(self.keys) else None


@dataclass
class PageAt:
    frames: list
    next_cursor: str | None
    offset: int
    total: int


def stored_order(query: FrameQuery) -> bool:
    """Whether a published version keeps this order's checkpoints (unfiltered, a sort by columns)."""
    return not query.filtered and query.sort in STORED_SORTS


def positions_stored(*, user, version: DatasetVersion, sort: str) -> Positions | None:
    """A published version's stored checkpoints of `sort` (ascending); None until they are built."""
    require(user, version, VIEWER)
    if not version.is_published or sort not in STORED_SORTS:
        return None
    positions = Positions(version.frame_count, False, stored=(version.pk, sort))
    if version.frame_count >= POSITION_STEP and positions.key_at(POSITION_STEP - 1) is None:
        return None  # not built yet (the publish job is running)
    return positions


def positions_compute(*, user, version: DatasetVersion, query: FrameQuery) -> Positions:
    """The checkpoints of the query's order, in its direction, from one pass over the frames it matches."""
    require(user, version, VIEWER)
    keys = tuple(tuple(key) for key in _checkpoint_keys(version, query))
    after = _seek(version, query, list(keys[-1]) if keys else None)
    tail = len(first_rows([part.values_list("pk") for part in after], POSITION_STEP))
    return Positions(len(keys) * POSITION_STEP + tail, query.descending, keys)


def _checkpoint_keys(version: DatasetVersion, query: FrameQuery):
    """Sort keys of the frames at positions STEP-1, 2*STEP-1, ... (row_number() over the order, every STEP-th)."""
    names = sort_columns(query.sort)
    rows = _ordered(version, query, None).annotate(
        _position=Window(RowNumber(), order_by=[keyset_order(n, query.descending) for n in names]),
    ).annotate(_nth=F("_position") % POSITION_STEP).filter(_nth=0).order_by("_position")
    if names[0] != META_SORT_ALIAS:
        yield from (list(values) for values in rows.values_list(*names).iterator(chunk_size=2000))
        return
    fields = {json_sort_path(query.sort)[0], "frame_id"}
    yield from (sort_values(row, query.sort) for row in rows.only(*fields).iterator(chunk_size=2000))


def _ordered(version: DatasetVersion, query: FrameQuery, cursor: str | None):
    """The query's frames after `cursor` in its order, as one query (for numbering the order and testing
    membership; pages seek with _seek)."""
    names = sort_columns(query.sort)
    qs = query_rows(version, query)
    if names[0] == META_SORT_ALIAS:
        qs = qs.alias(**{META_SORT_ALIAS: json_sort_expression(query.sort)})
    if cursor:
        qs = qs.filter(keyset_after(names, decode_cursor(cursor, names), descending=query.descending))
    return qs.order_by(*[keyset_order(n, query.descending) for n in names])


def _seek(version: DatasetVersion, query: FrameQuery, key: list | None) -> list:
    """The query's frames after the sort key `key` in its order, as frames_browse seeks them (ordered_parts)."""
    return ordered_parts(query_rows(version, query), query.sort, key, descending=query.descending)


def anchor(positions: Positions, offset: int, *, descending: bool) -> tuple[list | None, int]:
    """(the checkpoint key to seek after, or None for the start; how many rows to skip after it) for the page at
    `offset` in the `descending` direction. Fewer than 2 * STEP rows are ever skipped."""
    if descending == positions.descending:
        nth = offset // POSITION_STEP
        if nth == 0:
            return None, offset
        return positions.key_at(nth * POSITION_STEP - 1), offset - nth * POSITION_STEP
    # Checkpoints counted from the other end: the frame at offset k is at position total-1-k of theirs; seek
    # after the nearest checkpoint at or beyond position total-k (offset k-1 or earlier in our direction).
    total = positions.total
    nth = -(-(total - offset + 1) // POSITION_STEP)
    position = nth * POSITION_STEP - 1
    if position > total - 1:
        return None, offset
    return positions.key_at(position), offset - 1 - (total - 1 - position)


def cursor_at(*, user, version: DatasetVersion, query: FrameQuery, positions: Positions, offset: int) -> str | None:
    """The cursor after which the page at `offset` starts (None: it is the first page)."""
    require(user, version, VIEWER)
    key, skip = anchor(positions, offset, descending=query.descending)
    return skipped_cursor(version, query, key, skip)


def skipped_cursor(version: DatasetVersion, query: FrameQuery, key: list | None, skip: int) -> str | None:
    """The cursor of the `skip`-th frame after `key` in the query's order (`key` itself for 0; None: the start).
    One keyset seek and a walk of `skip` rows (access is the caller's)."""
    if skip == 0:
        return encode_cursor(key) if key is not None else None
    names = sort_columns(query.sort)
    fields = (json_sort_path(query.sort)[0], "frame_id") if names[0] == META_SORT_ALIAS else names
    rows = first_rows([part.only(*fields) for part in _seek(version, query, key)], skip)
    return cursor_of(rows[-1], sort=query.sort) if len(rows) == skip else None


def page_at(*, user, version: DatasetVersion, query: FrameQuery, positions: Positions, offset: int) -> PageAt:
    """The page of `query.limit` frames starting at `offset` (empty past the end), with the order's total."""
    find = lambda: cursor_at(user=user, version=version, query=query, positions=positions, offset=offset)  # noqa: E731
    return page_after(user=user, version=version, query=query, total=positions.total, offset=offset, find_cursor=find)


def page_after(*, user, version: DatasetVersion, query: FrameQuery, total: int, offset: int, find_cursor) -> PageAt:
    """The page at `offset` of an order of `total` frames, read after the cursor `find_cursor()` finds (any
    kind of checkpoints: a version's own, or a draft's through its parent's)."""
    require(user, version, VIEWER)
    if offset >= total:
        return PageAt([], None, offset, total)
    page = frames_browse(user=user, version=version, query=query.page(cursor=find_cursor()))
    return PageAt(page.frames, page.next_cursor, offset, total)


def cursor_is_at(*, user, version: DatasetVersion, query: FrameQuery, positions: Positions, offset: int) -> bool:
    """Whether the query's cursor starts the page at `offset` (a page number in a URL, checked)."""
    find = lambda: cursor_at(user=user, version=version, query=query, positions=positions, offset=offset)  # noqa: E731
    return cursor_found(query, total=positions.total, offset=offset, find_cursor=find)


def cursor_found(query: FrameQuery, *, total: int, offset: int, find_cursor) -> bool:
    """Whether the query's cursor is the one `find_cursor()` finds for the page at `offset`."""
    if offset <= 0 or offset > total or not query.cursor:
        return False
    expected = find_cursor()
    names = sort_columns(query.sort)
    return expected is not None and decode_cursor(expected, names) == decode_cursor(query.cursor, names)


def cursor_offset(*, user, version: DatasetVersion, query: FrameQuery, positions: Positions) -> int:
    """The offset of the first frame after the query's cursor: a binary search over the checkpoints (is this
    checkpoint's frame after the cursor? one indexed probe each), then one short keyset walk."""
    require(user, version, VIEWER)
    offsets = _checkpoint_offsets(positions, descending=query.descending)
    low, high = 0, len(offsets)  # checkpoints [0, low) are not after the cursor, [high, ...) are
    while low < high:
        middle = (low + high) // 2
        if _after_cursor(version, query, positions.key_at(_position(positions, offsets[middle], query.descending))):
            high = middle
        else:
            low = middle + 1
    start_offset = offsets[low - 1] + 1 if low else 0
    start = positions.key_at(_position(positions, offsets[low - 1], query.descending)) if low else None
    span = 3 * POSITION_STEP
    walked = first_rows([part.values_list("frame_id", flat=True) for part in _seek(version, query, start)], span)
    after = first_rows([part.filter(_cursor_filter(query)).values_list("frame_id", flat=True)
                        for part in _seek(version, query, start)], span)
    if len(walked) < span:
        return start_offset + len(walked) - len(after)
    return positions.total - _ordered(version, query, query.cursor).order_by().count()  # not expected: count


def _checkpoint_offsets(positions: Positions, *, descending: bool) -> list[int]:
    """The offsets (in the `descending` direction) of the frames the checkpoints name, ascending."""
    stored = [(i + 1) * POSITION_STEP - 1 for i in range(positions.total // POSITION_STEP)]
    if descending == positions.descending:
        return stored
    return sorted(positions.total - 1 - p for p in stored)


def _position(positions: Positions, offset: int, descending: bool) -> int:
    return offset if descending == positions.descending else positions.total - 1 - offset


def _cursor_filter(query: FrameQuery):
    names = sort_columns(query.sort)
    return keyset_after(names, decode_cursor(query.cursor, names), descending=query.descending)


def _after_cursor(version: DatasetVersion, query: FrameQuery, key: list) -> bool:
    """Whether the frame of checkpoint `key` (its last value is the frame id) comes after the query's cursor."""
    return _ordered(version, query, query.cursor).filter(frame_id=key[-1]).exists()
