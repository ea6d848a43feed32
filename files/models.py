"""The file layer's one table: files about to be written (files.stored)."""

from django.db import models
from django.utils import timezone

from portal.dates import long_datetime


class PendingObject(models.Model):
    """A file about to be written to storage, recorded (and committed) first.

    Every stored kind is written through ``files.stored.object_write``:
    this row commits before the write starts and is removed once the row that
    refers to the file has committed. A crash at any point therefore leaves
    either a committed row with its file, or this mark, which the sweeper
    (``manage.py sweep_storage``) turns into a deleted file once it is older
    than ``STORAGE_SWEEP_GRACE_HOURS`` and no row refers to the file.
    """

    wagtail_reference_index_ignore = True

    name = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        since = long_datetime(self.created_at)
        return f"{self.kind} {self.name} (pending since {since})"
