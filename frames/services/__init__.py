"""Every write: datasets, members, versions, frames, previews, statistics kept, jobs.

Services take the acting user first and check their role (frames.selectors.access) before anything else;
they validate business rules themselves (so the pages, the API, the SDK and the workers all get them), run in
one transaction, and queue tasks only after it commits. Nothing else writes rows, caches or files.

- datasets:   datasets and their members
- projects:   projects (create, rename, delete when empty) and the project a dataset goes to
- versions:   child versions, rename/describe/metadata, publish, snapshot, delete
- frames:     add, update (merge), delete frames, with write preconditions
- previews:   rendition rows and their tasks, regenerate, large renditions, preview progress
- pyramids:   deep zoom pyramids of large images: asked for by viewers, built by a job
- renditions: rendering in the workers
- stats:      statistics, counts and Group-by-URL tallies kept (cached, stored, or counted by a job); stats_keys:
              where they are kept; stats_derived: a draft child's, derived from its parent's
- columns:    a large published version copied into columns by a job (frames.columnar)
- columns_local: this host's copies of them on disk, mapped by the web processes
- credentials: cloud credentials (secrets encrypted), and the Test button
- imports:    frames from other tools' formats, all or nothing (frames.importers reads them); import_jobs: as jobs
- planner:    planner statistics (ANALYZE) brought up to date after large writes
- size_indexes: a large published dataset's own indexes for the width and height sorts (PostgreSQL)
- dataviews:  a user's DataViews (saved queries over versions, iteration order, labels, mapping rules)
- dataview_pages: a DataView's pages, a random view's matched ids kept in the cache
- uploads:    media files the SDK uploads for frames (content-addressed, locally or in a bucket), and the
              clean-up of those no frame names
- jobs:       the Job lifecycle; job_kinds: what each kind of job runs
"""
from .columns import columns_refresh
from .credentials import credential_create, credential_delete, credential_test, credential_update
from .dataview_pages import dataview_frames_page
from .dataviews import dataview_create, dataview_delete, dataview_update
from .datasets import INITIAL_VERSION_NAME, dataset_create, dataset_delete, dataset_update, member_remove, member_set
from .frames import FramesDeleteResult, FramesWriteResult, frames_add, frames_delete, frames_update
from .import_jobs import import_start
from .imports import ImportRefused, ImportResult, import_formats, import_frames, import_output_dir
from .job_kinds import job_run, register_job_kind
from .planner import planner_stats_refresh
from .jobs import (
    JobCancelled, JobFailed, job_cancel, job_claim, job_fail, job_finish, job_heartbeat, job_mark_cancelled, job_progress,
    job_progress_outside, job_retry_later, job_start,
)
from .previews import previews_progress, previews_regenerate, previews_request, rendition_request
from .projects import project_create, project_delete, project_update
from .pyramids import pyramid_request
from .renditions import render_previews
from .uploads import StoredUpload, UploadsCleaned, media_upload, uploads_clean, uploads_clean_scheduled
from .sweep import work_sweep
from .stats import StatsPending, contexts_page, frames_count, frames_overlap_count, label_stats, meta_distribution, meta_keys, published_distributions_warm
from .versions import version_create, version_delete, version_publish, version_snapshot, version_update

__all__ = [
    "columns_refresh",
    "credential_create", "credential_delete", "credential_test", "credential_update",
    "dataview_create", "dataview_delete", "dataview_frames_page", "dataview_update",
    "INITIAL_VERSION_NAME", "dataset_create", "dataset_delete", "dataset_update", "member_remove", "member_set",
    "FramesDeleteResult", "FramesWriteResult", "frames_add", "frames_delete", "frames_update",
    "import_start", "ImportRefused", "ImportResult", "import_formats", "import_frames", "import_output_dir",
    "job_run", "register_job_kind", "planner_stats_refresh",
    "JobCancelled", "JobFailed", "job_cancel", "job_claim", "job_fail", "job_finish", "job_heartbeat", "job_mark_cancelled", "job_progress", "job_progress_outside", "job_retry_later",
    "job_start",
    "previews_progress", "previews_regenerate", "previews_request", "rendition_request",
    "project_create", "project_delete", "project_update",
    "pyramid_request",
    "render_previews",
    "StatsPending", "contexts_page", "frames_count", "frames_overlap_count", "label_stats", "meta_distribution", "meta_keys", "published_distributions_warm",
    "StoredUpload", "UploadsCleaned", "media_upload", "uploads_clean", "uploads_clean_scheduled",
    "version_create", "version_delete", "version_publish", "version_snapshot", "version_update",
    "work_sweep",
]
