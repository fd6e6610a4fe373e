"""Datasets, versions and frames.

Versions are copy-on-write, like Git: a frame row (FrameRevision) belongs to the version that saved it, and a
version's view is, for every frame id, the revision saved in the nearest version of its lineage, minus ids a
nearer version deleted (tombstones). Creating a child version therefore copies nothing.

The frame itself is kept in ClearML's JSON form (sources, rois, meta) so it round-trips unchanged; RoiLabel and
FrameSource are index tables derived from that JSON so label and source filters use database indexes.
"""
import uuid

from django.conf import settings
from django.db import models

from . import lookups  # noqa: F401  (registers `__any`)
from .dataview_models import DataView  # noqa: F401  (registered with the app through this module)
from .outbox_models import TaskOutbox  # noqa: F401  (likewise)
from .columns_models import VersionColumns  # noqa: F401  (likewise)


def new_id() -> str:
    return uuid.uuid4().hex


class Project(models.Model):
    """A folder of datasets, as in ClearML: every dataset lives in exactly one project. Datasets made without
    naming one go to DEFAULT_NAME, "General" (made by migration 0006 for the datasets that existed before)."""

    DEFAULT_NAME = "General"

    id = models.CharField(max_length=32, primary_key=True, default=new_id, editable=False)
    name = models.CharField(max_length=255, unique=True)
    description = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Dataset(models.Model):
    id = models.CharField(max_length=32, primary_key=True, default=new_id, editable=False)
    name = models.CharField(max_length=255, unique=True)
    # PROTECT: a project that still holds datasets cannot be deleted (the service says so first, as a 409).
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="datasets")
    description = models.TextField(blank=True, default="")
    tags = models.JSONField(default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Bumped by the services on every change of the fields above: the write precondition (ETag) of a dataset.
    revision = models.PositiveIntegerField(default=1)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def etag(self) -> str:
        return f'"{self.id[:8]}.{self.revision}"'


class DatasetMember(models.Model):
    """A user's role in one dataset. Staff need none: they see and manage everything."""

    VIEWER = "viewer"  # reads frames, statistics, media and exports
    ANNOTATOR = "annotator"  # also writes the frames of draft versions
    OWNER = "owner"  # also versions, publishing, deleting and members
    ROLES = [(VIEWER, "Viewer"), (ANNOTATOR, "Annotator"), (OWNER, "Owner")]

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dataset_memberships")
    role = models.CharField(max_length=16, choices=ROLES)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dataset", "user"], name="dataset_member_unique")]
        indexes = [models.Index(fields=["user", "dataset"], name="member_user_dataset")]

    def __str__(self):
        return f"{self.user_id} {self.role} of {self.dataset_id}"


class DatasetVersion(models.Model):
    DRAFT = "draft"
    PUBLISHED = "published"
    STATUS_CHOICES = [(DRAFT, "Draft"), (PUBLISHED, "Published")]

    id = models.CharField(max_length=32, primary_key=True, default=new_id, editable=False)
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions")
    # Creation order within the dataset: a child always has a larger seq than its ancestors, so "the
    # nearest revision in my lineage" is "the revision with the largest seq among my lineage's seqs".
    seq = models.PositiveIntegerField()
    # seqs of the root .. this version; fixed at creation because ancestors are published (frozen).
    lineage = models.JSONField(default=list)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=DRAFT)
    metadata = models.JSONField(default=dict, blank=True)
    # Kept exact by the services on every write, so counting a million frames is never needed.
    frame_count = models.BigIntegerField(default=0)
    # Label statistics, computed once when the version is published (it never changes afterwards).
    stats = models.JSONField(null=True, blank=True)
    # Bumped by the services when name, description, metadata or status change: the version's ETag. Frame
    # writes do not bump it (they have their own precondition, each frame's `saved`).
    revision = models.PositiveIntegerField(default=1)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    published = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["dataset_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["dataset", "seq"], name="version_seq_unique")]

    def __str__(self):
        return f"{self.dataset_id}/{self.name}"

    @property
    def is_published(self) -> bool:
        return self.status == self.PUBLISHED

    @property
    def etag(self) -> str:
        return f'"{self.id[:8]}.{self.revision}"'


class RevisionQuerySet(models.QuerySet):
    def visible_in(self, version: DatasetVersion) -> "RevisionQuerySet":
        """The revisions that make up `version`: the nearest one per frame id in its lineage, tombstones hidden."""
        qs = self.filter(dataset_id=version.dataset_id, deleted=False)
        lineage = version.lineage
        if len(lineage) == 1:
            return qs.filter(version_seq=lineage[0])
        nearer = FrameRevision.objects.filter(dataset_id=version.dataset_id, frame_id=models.OuterRef("frame_id"),
                                              version_seq__in=lineage, version_seq__gt=models.OuterRef("version_seq"))
        return qs.filter(version_seq__in=lineage).filter(~models.Exists(nearer))

    def latest_in(self, version: DatasetVersion, frame_ids: list[str], lineage=None) -> dict[str, "FrameRevision"]:
        """For each id, the nearest revision in the lineage (default: the version's), tombstones included."""
        lineage = version.lineage if lineage is None else lineage
        if not lineage or not frame_ids:
            return {}
        rows = self.filter(dataset_id=version.dataset_id, frame_id__in=frame_ids, version_seq__in=lineage)
        latest = {}
        for row in rows.order_by("frame_id", "-version_seq"):
            latest.setdefault(row.frame_id, row)
        return latest


class FrameRevision(models.Model):
    """One frame as saved in one version (or a tombstone saying the version deleted it)."""

    # The version's dataset, for the indexes that lead with it. No constraint of its own: the version's keeps it
    # (a version cannot go while its frames are there, nor its dataset while it is); a second check: 3 us a frame.
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, db_index=False, related_name="+", db_constraint=False)
    # Indexed in Meta: a plain index, without the LIKE-pattern twin PostgreSQL gets for a character key (every
    # index costs each import row an insert, and nothing matches version ids by pattern).
    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, db_index=False, related_name="saved_frames")
    version_seq = models.PositiveIntegerField()
    frame_id = models.CharField(max_length=255)
    deleted = models.BooleanField(default=False)
    context_id = models.CharField(max_length=1024, default="")
    timestamp = models.BigIntegerField(default=0)
    saved = models.BigIntegerField(default=0)  # epoch milliseconds, as in ClearML
    num_frames = models.IntegerField(default=1)
    meta = models.JSONField(default=dict)
    sources = models.JSONField(default=list)
    rois = models.JSONField(default=list)
    # A draft's own row: the parent's revision of its frame id it hides, noted by the write (0: none; NULL: not
    # noted). The parent never changes: selectors.stats_delta reads a draft's changes from it, without a join.
    hides = models.BigIntegerField(null=True, blank=True)

    objects = RevisionQuerySet.as_manager()

    class Meta:
        db_table = "frames_frame"
        constraints = [
            models.UniqueConstraint(fields=["dataset", "frame_id", "version_seq"], name="frame_revision_unique"),
        ]
        # The browse orders skip tombstones: a version's deletes must not sit in the way of its pages.
        indexes = [
            models.Index(fields=["version"], name="frame_version"),
            models.Index(fields=["dataset", "context_id", "timestamp", "frame_id"], name="frame_context_order",
                         condition=models.Q(deleted=False)),
            models.Index(fields=["dataset", "timestamp", "frame_id"], name="frame_timestamp_order",
                         condition=models.Q(deleted=False)),
            models.Index(fields=["dataset", "saved", "frame_id"], name="frame_saved_order",
                         condition=models.Q(deleted=False)),
        ]

    def __str__(self):
        return f"{self.frame_id}@{self.version_id}"


class FramePosition(models.Model):
    """Every POSITION_STEP-th frame of a published version in one unfiltered sort order (ascending): its
    position (0-based) and sort key. Built once when the version is published (it never changes), so a page
    at any offset is a keyset seek from the nearest stored key (frames.selectors.positions)."""

    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="+")
    sort = models.CharField(max_length=32)
    position = models.BigIntegerField()
    key = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "sort", "position"], name="frame_position_unique")]

    def __str__(self):
        return f"{self.version_id} {self.sort} #{self.position}"


class RoiLabel(models.Model):
    """One label of one ROI of a revision: the index behind label filters and label statistics."""

    # Index rows are derived data, written and removed with their revision by the services only (bulk.py,
    # frames.py). No database constraint: its per-row check cost imports two fifths of their time.
    revision = models.ForeignKey(FrameRevision, on_delete=models.CASCADE, related_name="roi_labels", db_constraint=False)
    roi_index = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=255)
    confidence = models.FloatField(null=True)
    # An ROI with no poly, shape or mask labels the whole frame (frames.schema.is_frame_label).
    is_frame_label = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["label", "revision"], name="roilabel_label")]


class FrameSource(models.Model):
    """One source of a revision: the index behind `sources.*` rules and preview bookkeeping."""

    revision = models.ForeignKey(FrameRevision, on_delete=models.CASCADE, related_name="source_rows", db_constraint=False)  # as RoiLabel's
    source_id = models.CharField(max_length=255)
    uri = models.CharField(max_length=4096)
    content_type = models.CharField(max_length=255, blank=True, default="")
    width = models.IntegerField(null=True)
    height = models.IntegerField(null=True)
    timestamp = models.BigIntegerField(null=True)
    meta = models.JSONField(default=dict)


class MediaPreview(models.Model):
    """A browser-readable rendition the workers made of a source (or mask) at a timestamp/page and size.

    Keyed by what it renders, not by frame or version: a frame's revisions, its versions and every frame that
    points at the same video share one row and one file, and published versions stay untouched.
    """

    SOURCE = "source"
    MASK = "mask"
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"

    # Unique and status indexes declared in Meta, without PostgreSQL's LIKE-pattern twins: a key is a random
    # hash, so each index on it costs an import a random B-tree insert per source.
    key = models.CharField(max_length=64)
    kind = models.CharField(max_length=8, choices=[(SOURCE, "Source"), (MASK, "Mask")])
    uri = models.CharField(max_length=4096)
    media = models.CharField(max_length=8, default="image")  # image | video: how the worker reads the uri
    timestamp = models.BigIntegerField(default=0)
    page = models.IntegerField(default=0)
    max_size = models.IntegerField(default=0)  # 0 = full size (masks are never resized)
    status = models.CharField(max_length=8, default=PENDING)
    file = models.CharField(max_length=255, blank=True, default="")
    content_type = models.CharField(max_length=64, blank=True, default="")
    width = models.IntegerField(null=True)  # of the source, recorded for sources that came without them
    height = models.IntegerField(null=True)
    error = models.TextField(blank=True, default="")
    attempts = models.IntegerField(default=0)
    # The user whose action last asked for it: the worker reads the source with that user's cloud credentials.
    # No constraint or index (as `job`): 3 us a source on an import; deleting a user nulls it through the ORM.
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False, db_index=False)
    # The previews job that counts it when it is made (the sweep sends a stalled job's pending rows again).
    job = models.ForeignKey("Job", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key"], name="mediapreview_key_unique")]
        indexes = [models.Index(fields=["status"], name="mediapreview_status")]


class Job(models.Model):
    """A piece of work longer than a request (previews, statistics, counts, imports, exports) that a user can
    follow and cancel. A Celery task moves it forward; `key` names the work, so asking for the same work
    while it is queued or running joins the job that exists instead of starting another."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    STATES = [(QUEUED, "Queued"), (RUNNING, "Running"), (DONE, "Done"), (FAILED, "Failed"), (CANCELLED, "Cancelled")]
    ACTIVE = (QUEUED, RUNNING)

    id = models.CharField(max_length=32, primary_key=True, default=new_id, editable=False)
    kind = models.CharField(max_length=32)
    key = models.CharField(max_length=200, blank=True, default="")
    subject = models.CharField(max_length=300, blank=True, default="")  # what it works on, for people
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    dataset = models.ForeignKey(Dataset, null=True, blank=True, on_delete=models.CASCADE, related_name="jobs")
    version = models.ForeignKey(DatasetVersion, null=True, blank=True, on_delete=models.CASCADE, related_name="jobs")
    params = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=STATES, default=QUEUED)
    done = models.BigIntegerField(default=0)
    total = models.BigIntegerField(null=True, blank=True)
    message = models.CharField(max_length=500, blank=True, default="")
    error = models.TextField(blank=True, default="")
    result = models.JSONField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # A running job's worker holds it until then (moved on with each progress report); a job whose worker
    # died is taken over by the task's next delivery once the lease has run out.
    lease_until = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=models.Q(state__in=["queued", "running"]) & ~models.Q(key=""),
                name="job_one_active_per_key",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "state"], name="job_user_state"),
            models.Index(fields=["version", "created"], name="job_version_created"),
            models.Index(fields=["key", "state", "finished"], name="job_key_state"),
        ]

    def __str__(self):
        return f"{self.kind} {self.id} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE


class CloudCredential(models.Model):
    """Access to one object store (S3 or S3-compatible, Google Cloud Storage, Azure Blob): a user's own row, or
    shared with everyone when `owner` is null (only staff make those). `secret` and `token` hold Fernet tokens
    (frames.secrets); the plain values exist only in memory, in the mapping a storage receives."""

    S3, GCS, AZURE = "s3", "gcs", "azure"
    PROVIDERS = [(S3, "S3 / S3-compatible"), (GCS, "Google Cloud Storage"), (AZURE, "Azure Blob")]
    PROXY, SIGNED = "proxy", "signed"
    DELIVERIES = [(PROXY, "Streamed by the server"), (SIGNED, "Short-lived signed URLs")]
    AZURE_AUTHS = [("key", "Account key"), ("sas", "SAS token"), ("connection_string", "Connection string")]

    id = models.CharField(max_length=32, primary_key=True, default=new_id, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="cloud_credentials")
    provider = models.CharField(max_length=8, choices=PROVIDERS)
    name = models.CharField(max_length=255)
    host = models.CharField(max_length=255, blank=True, default="")  # "" = the provider's own endpoint
    bucket = models.CharField(max_length=255, blank=True, default="")  # "" = every bucket of the host
    region = models.CharField(max_length=64, blank=True, default="")
    key = models.CharField(max_length=255, blank=True, default="")
    secret = models.TextField(blank=True, default="")  # encrypted
    token = models.TextField(blank=True, default="")  # encrypted
    azure_auth = models.CharField(max_length=20, choices=AZURE_AUTHS, blank=True, default="key")
    use_tls = models.BooleanField(default=True)
    anonymous = models.BooleanField(default=False)
    delivery = models.CharField(max_length=8, choices=DELIVERIES, default=PROXY)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider", "host", "bucket", "name"]
        indexes = [models.Index(fields=["provider", "host"], name="credential_provider_host")]

    def __str__(self):
        return f"{self.name} ({self.provider} {self.host or '-'}/{self.bucket or '*'})"


class VersionMetaSchema(models.Model):
    """The typed custom metadata fields of a version ([{name, path, type, default, values}], see
    frames.selectors.meta_schema). Copy-on-write like frames: a version without its own row uses the row of its
    nearest ancestor, so a child inherits its parent's schema and setting a child's schema never touches the
    parent's (ancestors are published, hence frozen)."""

    version = models.OneToOneField(DatasetVersion, on_delete=models.CASCADE, related_name="+")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, db_index=False, related_name="+")
    version_seq = models.PositiveIntegerField()
    fields = models.JSONField(default=list)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["dataset", "version_seq"], name="meta_schema_lineage")]

    def __str__(self):
        return f"meta schema of {self.version_id}"
