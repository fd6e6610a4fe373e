"""Every read of datasets, versions, frames, statistics and jobs, for the API, the pages, exports and workers.

Selectors take the acting user first and decide access through `access.require`; they have no side effects
(no row, cache or file written, no task queued): keeping answers and queueing work is frames.services.

- access:   roles (viewer, annotator, owner), what a user may see, SYSTEM
- query:    FrameQuery and its one parser for the API and the pages; sorts and keyset cursors
- datasets: datasets, versions, members
- projects: the projects a user sees, one project, who may rename or delete it
- frames:   one frame, pages of frames, counts, every frame page by page
- contexts: Group by URL, a context's frames (film strip), Previous pages, a frame's neighbours
- navigation: a step of 1 or 10 frames from one frame (in the filter's order or its context, above a confidence)
- changes:  what a version changed against its parent, frame by frame (added, edited, deleted; the parent's frame)
- stats:    label statistics (kept, inherited or counted), a metadata key's distribution, ROI confidence and ROI
            metadata distributions, the metadata keys
- overlap:  the frames two views both show (Split Preview): as one query when a URL can say it, else counted
- columns:  counts, label statistics and panels of a large published version read from its columns (frames.columnar)
- stats_delta: a draft child's statistics derived from its published parent's and what the draft changed
- context_positions: checkpoints of the Group-by-URL contexts, and the page at any context offset
- positions: checkpoints of an order, and the page (or cursor) at any offset through them
- draft_positions: the same for a draft child of a published version, through its parent's stored checkpoints
- previews: the renditions frames need, frames with their previews attached, preview progress
- jobs:     a user's jobs, a version's job history
- pyramids: which sources are shown through a deep zoom pyramid, and its state
- credentials: cloud credentials a user sees and uses, the row for a host and bucket, the storage credentials provider
- dataviews: a user's DataViews, and their frames evaluated (sequential by context, or seeded random draws by weight)
- meta_schema: a version's typed metadata fields (its own or inherited), the values its frames hold, the write check
- uploads:  which of the SDK's uploaded media files a dataset's frames still name (for their clean-up)
"""
from .access import ANNOTATOR, OWNER, SYSTEM, VIEWER, allows, role_of
from .credentials import credential_for, credential_get, credentials_list, credentials_provider
from .context_positions import ContextPositions, context_cursor_at, context_cursor_offset, context_positions_compute
from .contexts import (
    CONTEXT_PAGE_SIZE, ContextFramesPage, ContextPage, ContextRow, Neighbours, context_frames, contexts_before, contexts_list,
    frame_neighbours, previous_page_cursor,
)
from .changes import ParentFrame, frame_changes, parent_frame
from .dataviews import (
    DataViewCount, DataViewPage, DataViewQuery, dataview_count, dataview_frames, dataview_get, dataview_queries, dataview_query_ids,
    dataviews_list,
)
from .datasets import dataset_get, datasets_list, members_list, version_get, version_lineage, versions_list
from .exports import EXPORT_FORMATS, frames_export
from .frames import FramePage, cursor_of, frame_get, frame_pages, frame_to_dict, frames_browse, frames_count
from .jobs import job_get, jobs_list
from .meta_schema import meta_field_values, meta_schema_get, meta_schema_validator
from .projects import may_manage_project, project_get, projects_list
from .navigation import Step, frame_step, parse_step
from .overlap import frames_overlap_count, overlap_query
from .previews import frames_to_dicts, latest_previews_count, previews_count, rendition_wait
from .draft_positions import DraftPositions, draft_cursor_at, draft_cursor_is_at, draft_cursor_offset, draft_net, draft_page_at, draft_positions
from .positions import cursor_at, cursor_is_at, cursor_offset, page_at, positions_compute, positions_stored
from .pyramids import source_pyramid, source_pyramids
from .query import CONTEXT_CURSOR, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, STRIP_CURSOR, FrameQuery, QueryInvalid, decode_cursor, parse_frame_query
from .uploads import upload_uris_in_use
from .roi_stats import roi_distribution, roi_meta_keys
from .stats import counted_label_stats, label_stats, meta_distribution, meta_keys
from .stats_delta import count_from_parent, delta_of, distribution_from_parent, draft_changes, label_stats_from_parent
from .stats_kept import inherited_stats, kept_label_filter_stats, kept_stats, stored_stats

__all__ = [
    "upload_uris_in_use",
    "ANNOTATOR", "OWNER", "SYSTEM", "VIEWER", "allows", "role_of",
    "credential_for", "credential_get", "credentials_list", "credentials_provider",
    "ContextPositions", "context_cursor_at", "context_cursor_offset", "context_positions_compute",
    "CONTEXT_PAGE_SIZE", "ContextFramesPage", "ContextPage", "ContextRow", "Neighbours", "context_frames", "contexts_before",
    "contexts_list", "frame_neighbours", "previous_page_cursor",
    "DataViewCount", "DataViewPage", "DataViewQuery", "dataview_count", "dataview_frames", "dataview_get", "dataview_queries",
    "dataview_query_ids", "dataviews_list",
    "dataset_get", "datasets_list", "members_list", "version_get", "version_lineage", "versions_list",
    "EXPORT_FORMATS", "frames_export",
    "FramePage", "cursor_of", "frame_get", "frame_pages", "frame_to_dict", "frames_browse", "frames_count",
    "job_get", "jobs_list",
    "meta_field_values", "meta_schema_get", "meta_schema_validator",
    "may_manage_project", "project_get", "projects_list",
    "Step", "frame_step", "parse_step",
    "frames_overlap_count", "overlap_query",
    "ParentFrame", "frame_changes", "parent_frame",
    "frames_to_dicts", "latest_previews_count", "previews_count", "rendition_wait",
    "DraftPositions", "draft_cursor_at", "draft_cursor_is_at", "draft_cursor_offset", "draft_net", "draft_page_at",
    "draft_positions",
    "cursor_at", "cursor_is_at", "cursor_offset", "page_at", "positions_compute", "positions_stored",
    "source_pyramid", "source_pyramids",
    "CONTEXT_CURSOR", "DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "STRIP_CURSOR", "FrameQuery", "QueryInvalid", "decode_cursor", "parse_frame_query",
    "counted_label_stats", "inherited_stats", "kept_stats", "label_stats", "meta_distribution", "meta_keys", "roi_distribution",
    "roi_meta_keys", "stored_stats",
    "count_from_parent", "delta_of", "distribution_from_parent", "draft_changes", "label_stats_from_parent", "kept_label_filter_stats",
]
