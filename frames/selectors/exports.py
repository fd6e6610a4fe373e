"""A version, or the frames a query matches, as text chunks in an export format, streamed a page at a time.

ClearML JSON and JSON lines walk the frames once; COCO walks them three times (labels and ids, images,
annotations) and reads mask images to write them as RLE. The first page is fetched before anything is
returned, so a bad query fails before a response starts."""
from __future__ import annotations

from collections.abc import Iterator

from ..exceptions import ServiceError
from ..exporters.clearml import CHUNKERS
from ..exporters.coco import coco_export_chunks
from ..models import DatasetVersion
from ..storage import storage_for_uri
from .credentials import credentials_provider
from .frames import EXPORT_PAGE_SIZE, frame_pages, frame_to_dict, frames_browse
from .query import FrameQuery

EXPORT_FORMATS = {"clearml": ".json", "jsonl": ".jsonl", "coco": ".json"}


def frames_export(*, user, version: DatasetVersion, query: FrameQuery, export_format: str) -> Iterator[str]:
    """The chunks of the export (`export_format` one of EXPORT_FORMATS)."""
    if export_format not in EXPORT_FORMATS:
        raise ServiceError(f"one of {', '.join(EXPORT_FORMATS)}", field="format")
    query = query.page(cursor=None, limit=EXPORT_PAGE_SIZE)
    first = frames_browse(user=user, version=version, query=query)  # bad input fails here, not mid-stream

    def to_dict(row) -> dict:
        return frame_to_dict(row, version_id=version.id)

    if export_format in CHUNKERS:
        return CHUNKERS[export_format](frame_pages(user=user, version=version, query=query, first=first), to_dict)
    provider = credentials_provider(user=user)

    def load_mask(uri: str) -> bytes:
        with storage_for_uri(uri, credentials_provider=provider).open(uri, seekable=False) as stream:
            return stream.read()

    return coco_export_chunks(
        lambda: frame_pages(user=user, version=version, query=query), to_dict,
        metadata=version.metadata, load_mask=load_mask,
    )
