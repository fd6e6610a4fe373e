"""This host's copies of large published versions' columns (columnar_stored.to_directory), which its web
processes map into memory (selectors.columns) instead of each fetching and parsing them from the database."""
from __future__ import annotations

import logging
import shutil
import threading
import time

from django.conf import settings
from django.db import transaction

from .. import columnar
from ..columnar_stored import FORMAT, from_bytes, to_directory
from ..models import Dataset, DatasetVersion, VersionColumns
from ..selectors.access import OWNER, VIEWER, require
from ..selectors.columns import columns_local_path, columns_stored, has_columns

PART_SECONDS = 3600  # a copy being written this long ago was abandoned
logger = logging.getLogger(__name__)
_writing = threading.Lock()  # one copy written per process at a time, not one per thread asking at once


def columns_localise(*, user, version: DatasetVersion) -> None:
    """Keep on this host's disk a copy of the columns a question about `version` reads (its own, or a draft's
    parent's), from the database's, unless it is there: the web processes map it (selectors.columns)."""
    require(user, version, VIEWER)
    source = version if version.is_published else version.parent
    if source is None or not has_columns(source) or columns_local_path(source.pk).is_dir():
        return
    with _writing:
        if columns_local_path(source.pk).is_dir():
            return
        data = columns_stored(user=user, version=source)
        columns = from_bytes(data) if data is not None else None
        if columns is not None:
            keep_local(source, columns)


def columns_forget(*, user, dataset: Dataset) -> None:
    """Remove this host's copies of a dataset's columns once its deletion commits (other hosts' go as they next
    keep one: keep_local)."""
    require(user, dataset, OWNER)
    paths = [columns_local_path(pk) for pk in dataset.versions.values_list("pk", flat=True)]
    transaction.on_commit(lambda: [shutil.rmtree(path, ignore_errors=True) for path in paths])


def keep_local(version: DatasetVersion, columns: columnar.Columns) -> None:
    """Write this host's copy, and remove its copies of columns the database no longer keeps in this form. A disk
    that refuses it costs speed only: the web processes load the database's copy instead."""
    try:
        to_directory(columns, columns_local_path(version.pk))
    except OSError:
        logger.warning("could not keep a copy of version %s's columns in %s", version.pk, settings.HYPERDATA_COLUMNS_DIR, exc_info=True)
        return
    current = {columns_local_path(pk).name for pk in VersionColumns.objects.filter(stored_format=FORMAT).values_list("version_id", flat=True)}
    for path in settings.HYPERDATA_COLUMNS_DIR.iterdir():
        partial = path.name.startswith(".")
        if (partial and time.time() - path.stat().st_mtime > PART_SECONDS) or (not partial and path.name not in current):
            shutil.rmtree(path, ignore_errors=True)
