"""DataViews: a user's saved selection of frames for training (ClearML's DataView), kept as a row so a training
run can name the exact frames it saw. Its own module so models.py stays within the size the layout allows."""
import uuid

from django.conf import settings
from django.db import models


def _new_id() -> str:
    return uuid.uuid4().hex


class DataView(models.Model):
    """Queries over dataset versions and how to iterate them. Evaluated by frames.selectors.dataviews.

    `queries`: [{"dataset", "version", "roi_query", "frame_query", "weight"}] (ids; the services check the owner
    sees each version); `labels`: label enumeration {label: int}; `mapping_rules`: [{"from_labels", "to_label",
    "version"}] (version None: every query)."""

    SEQUENTIAL, RANDOM = "sequential", "random"
    ORDERS = [(SEQUENTIAL, "Sequential"), (RANDOM, "Random")]

    id = models.CharField(max_length=32, primary_key=True, default=_new_id, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dataviews")
    name = models.CharField(max_length=255, blank=True, default="")
    queries = models.JSONField(default=list)
    iteration_order = models.CharField(max_length=16, choices=ORDERS, default=SEQUENTIAL)
    infinite = models.BooleanField(default=False)
    maximum_number_of_frames = models.PositiveBigIntegerField(null=True, blank=True)
    random_seed = models.BigIntegerField(default=1337)
    labels = models.JSONField(default=dict, blank=True)
    mapping_rules = models.JSONField(default=list, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["owner", "created"], name="dataview_owner_created")]

    def __str__(self):
        return self.name or self.id
