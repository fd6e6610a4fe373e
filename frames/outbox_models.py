"""The task outbox: a model of the frames app in a module of its own (frames.models imports it)."""
from django.db import models


class TaskOutbox(models.Model):
    """A task the broker did not take (Redis was down): kept here and sent again by the workers' sweep, so the
    work a write asked for runs once the broker is back (frames.services.outbox)."""

    task = models.CharField(max_length=100)
    args = models.JSONField(default=list)
    priority = models.PositiveSmallIntegerField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "frames"
