"""A published version's frames as columns (frames.columnar), built once by a job (services.columns). Its own
module so models.py stays within the size the layout allows."""
from django.db import models


class VersionColumns(models.Model):
    """The columns of one published version, as frames.columnar.to_bytes stores them (an .npz file's bytes: in the
    database, so every web process on any host reads the same copy, and it goes with its version)."""

    version = models.OneToOneField("frames.DatasetVersion", on_delete=models.CASCADE, primary_key=True, related_name="+")
    built = models.DateTimeField(auto_now_add=True)
    data = models.BinaryField()
    # columnar_stored.FORMAT when built: a copy in another form is not fetched, and `serve` queues it again
    stored_format = models.PositiveSmallIntegerField(default=0)
