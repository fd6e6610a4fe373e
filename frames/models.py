"""Datasets, versions and frames.

Versions are copy-on-write, like Git: a frame row (FrameRevision) belongs to the version that saved it, and a
version's view is, for every frame id, the revision saved in the nearest version of its lineage, minus ids a
nearer version deleted (tombstones). Creating a child version therefore copies nothing.

The frame itself is kept in ClearML's JSON form (sources, rois, meta) so it round-trips unchanged; RoiLabel and
FrameSource are index tables derived from that JSON so label and source filters use database indexes.
"""
import uuid

from django.db import models


def new_id() -> str:
    return uuid.uuid4().hex


class Dataset(models.Model):
    id = models.CharField(max_length=32, primary_key=True, default=new_id, editable=False)
    name = models.CharField(max_length=255, unique=True)
    description = models.TextField(blank=True, default="")
    tags = models.JSONField(default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


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


class FrameRevision(models.Model):
    """One frame as saved in one version (or a tombstone saying the version deleted it)."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, db_index=False, related_name="+")
    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="saved_frames")
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

    class Meta:
        db_table = "frames_frame"
        constraints = [
            models.UniqueConstraint(fields=["dataset", "frame_id", "version_seq"], name="frame_revision_unique"),
        ]
        # The browse orders skip tombstones: a version's deletes must not sit in the way of its pages.
        indexes = [
            models.Index(fields=["dataset", "context_id", "timestamp", "frame_id"], name="frame_context_order",
                         condition=models.Q(deleted=False)),
            models.Index(fields=["dataset", "timestamp", "frame_id"], name="frame_timestamp_order",
                         condition=models.Q(deleted=False)),
            models.Index(fields=["dataset", "saved", "frame_id"], name="frame_saved_order",
                         condition=models.Q(deleted=False)),
        ]

    def __str__(self):
        return f"{self.frame_id}@{self.version_id}"


class RoiLabel(models.Model):
    """One label of one ROI of a revision: the index behind label filters and label statistics."""

    revision = models.ForeignKey(FrameRevision, on_delete=models.CASCADE, related_name="roi_labels")
    roi_index = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=255)
    confidence = models.FloatField(null=True)
    # An ROI with neither poly nor mask labels the whole frame.
    is_frame_label = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["label", "revision"], name="roilabel_label")]


class FrameSource(models.Model):
    """One source of a revision: the index behind `sources.*` rules and preview bookkeeping."""

    revision = models.ForeignKey(FrameRevision, on_delete=models.CASCADE, related_name="source_rows")
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

    key = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=8, choices=[(SOURCE, "Source"), (MASK, "Mask")])
    uri = models.CharField(max_length=4096)
    media = models.CharField(max_length=8, default="image")  # image | video: how the worker reads the uri
    timestamp = models.BigIntegerField(default=0)
    page = models.IntegerField(default=0)
    max_size = models.IntegerField(default=0)  # 0 = full size (masks are never resized)
    status = models.CharField(max_length=8, default=PENDING, db_index=True)
    file = models.CharField(max_length=255, blank=True, default="")
    content_type = models.CharField(max_length=64, blank=True, default="")
    width = models.IntegerField(null=True)  # of the source, recorded for sources that came without them
    height = models.IntegerField(null=True)
    error = models.TextField(blank=True, default="")
    attempts = models.IntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
