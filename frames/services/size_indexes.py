"""Indexes for the size sorts (the first source's width and height) of large published datasets (PostgreSQL).

Without an index, every page of a size sort sorts the whole version: about 1 s at a million frames. One index over
every dataset's frames would cost every import two more B-tree inserts a frame (at a million images of five sizes,
16,400 against 19,100 frames/s; the README's `bench/keyset.py` section). The sorts matter where a dataset is large,
so such a dataset gets partial indexes of its own: when a version of HYPERDATA_SIZE_INDEX_FRAMES frames or more is
published, a job builds them without blocking writes (CREATE INDEX CONCURRENTLY, one sorted pass), and they are
dropped with the dataset. Later writes to that dataset keep them current; writes to other datasets do not pay.

The indexed expression is the sort's own (selectors.query.json_sort_expression), compiled by Django for the index
as for the queries, so the planner matches them.
"""
from __future__ import annotations

import re

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Index, Q

from ..models import Dataset, DatasetVersion, FrameRevision
from ..selectors.access import OWNER, require
from ..selectors.query import JSON_SORTS, json_sort_expression
from .job_kinds import register_job_kind
from .jobs import job_start

DATASET_ID = re.compile(r"[0-9a-f]{32}")


def size_indexes_queue(*, user, version: DatasetVersion) -> None:
    """Called while publishing: a job builds the dataset's size indexes once a version of its is large."""
    if connection.vendor != "postgresql" or version.frame_count < settings.HYPERDATA_SIZE_INDEX_FRAMES:
        return
    if all(_index_valid(name) for name in size_index_names(version.dataset_id)):
        return
    job_start(user=user, kind="size_indexes", key=f"size_indexes:{version.dataset_id}", version=version,
              subject=f"width and height sort indexes of {version.dataset.name}")


def size_index_names(dataset_id: str) -> list[str]:
    if not DATASET_ID.fullmatch(dataset_id):  # the name and predicate are written into SQL: hex ids only
        raise ValueError(f"not a dataset id: {dataset_id!r}")
    return [f"frame_{side}_{dataset_id}" for side in JSON_SORTS]


def size_indexes_build(*, user, dataset: Dataset) -> dict:
    """Build the dataset's missing size indexes (outside any transaction: CONCURRENTLY). An index a failed or
    interrupted build left invalid is dropped and built again."""
    require(user, dataset, OWNER)
    built = []
    for side, name in zip(JSON_SORTS, size_index_names(dataset.pk)):
        valid = _index_valid(name)
        if valid:
            continue
        with connection.schema_editor(atomic=False) as editor:
            if valid is False:
                editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            index = Index(json_sort_expression(side), F("frame_id"), name=name,
                          condition=Q(dataset_id=dataset.pk, deleted=False))
            editor.add_index(FrameRevision, index, concurrently=True)
        built.append(name)
    if built:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE frames_frame")  # the planner's statistics of the new expressions
    return {"built": built}


def size_indexes_drop(*, user, dataset: Dataset) -> None:
    """Drop a deleted dataset's size indexes once its deletion commits (without blocking others' reads)."""
    if connection.vendor != "postgresql":
        return
    names = [name for name in size_index_names(dataset.pk) if _index_valid(name) is not None]

    def drop():
        with connection.cursor() as cursor:
            for name in names:
                cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    transaction.on_commit(drop)


def _index_valid(name: str) -> bool | None:
    """True: the index is there and usable; False: a build of it failed half-way; None: there is none."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = %s", [name])
        row = cursor.fetchone()
    return None if row is None else row[0]


def _size_indexes_job(*, user, job):
    return size_indexes_build(user=user, dataset=Dataset.objects.get(pk=job.dataset_id))


register_job_kind("size_indexes", _size_indexes_job)
