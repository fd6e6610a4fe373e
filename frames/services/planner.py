"""Planner statistics kept up to date by the writes that make them stale.

PostgreSQL plans a query from statistics that ANALYZE gathers; autovacuum refreshes them, but it may be off
(as on CI's machine) or run minutes late, and right after a bulk import the planner would still think the
frame tables are nearly empty (pages 3-9x slower). So after a write, the service does what autovacuum would:
when a table's rows changed since its last ANALYZE reach a fifth of its size, it analyzes it, once the
write has committed (the request or job that wrote pays ~0.1-0.5 s, at most ~40 times while a table grows
from nothing to a million rows).
"""
from __future__ import annotations

import logging
import threading

from django.db import connection, connections, transaction

from ..models import FrameRevision, FrameSource, MediaPreview, RoiLabel

logger = logging.getLogger(__name__)
SCALE = 0.2  # analyze when the changed rows reach this share of the table...
THRESHOLD = 1000  # ...plus this many (autovacuum's defaults are 0.1 and 50, checked only once a minute)
# The rendition rows grow with the frames (one per new source): a never-analyzed table is planned from its size
# alone, and the lookup of a write's keys was a sequential scan that grew with every chunk.
FRAME_TABLES = [FrameRevision._meta.db_table, RoiLabel._meta.db_table, FrameSource._meta.db_table, MediaPreview._meta.db_table]


def planner_stats_refresh_after(written: int) -> None:
    """After a write of `written` frames commits, ANALYZE the frame tables whose statistics it made stale."""
    if connection.vendor != "postgresql" or written <= 0:
        return
    transaction.on_commit(lambda: planner_stats_refresh(written=written))


def planner_stats_refresh(*, written: int = 0) -> list[str]:
    """ANALYZE each frame table whose changes since its last ANALYZE (at least `written`, which the
    statistics collector may not have counted yet) exceed SCALE of its size plus THRESHOLD; the tables analyzed.
    Only PostgreSQL: SQLite's planner needs no statistics to use the frame indexes."""
    if connection.vendor != "postgresql":
        return []
    changed_tables = {table for table, changed, size in _table_changes() if max(changed, written) > SCALE * size + THRESHOLD}
    stale = [table for table in FRAME_TABLES if table in changed_tables]  # the frame table first
    _analyze_two_at_a_time(stale)
    if stale:
        logger.info("analyzed %s after a write of %d frames", ", ".join(stale), written)
    return stale


def _analyze_two_at_a_time(tables: list[str]) -> None:
    """ANALYZE the first table (the frame table: half of the time) on this connection while a thread with a
    connection of its own analyzes the rest: the write waits for the longer part, not the sum (0.32 -> 0.18 s
    after 100,000 frames, 3% of the import). What the thread raises is raised here."""
    failure: list[BaseException] = []

    def analyze_rest() -> None:
        try:
            _analyze(tables[1:])
        except BaseException as exc:  # noqa: BLE001 (raised again in the caller's thread)
            failure.append(exc)
        finally:
            connections.close_all()  # the thread's own connection

    helper = threading.Thread(target=analyze_rest, name="planner-analyze") if len(tables) > 1 else None
    if helper is not None:
        helper.start()
    try:
        _analyze(tables[:1])
    finally:
        if helper is not None:
            helper.join()
    if failure:
        raise failure[0]


def _analyze(tables: list[str]) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def _table_changes() -> list[tuple[str, int, float]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.relname, COALESCE(s.n_mod_since_analyze, 0), GREATEST(c.reltuples, 0)
                 FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
                WHERE c.relname = ANY(%s) AND c.relkind IN ('r', 'p')""",
            [FRAME_TABLES],
        )
        return cursor.fetchall()
