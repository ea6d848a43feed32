"""The quarterly board reports: files the background worker builds, kept in
private storage (files.stored) and downloaded by board members and
coordinators only."""

import uuid

from django.db import models
from django.db.models.functions import Now


class ReportFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    CSV = "csv", "CSV (spreadsheet)"


CONTENT_TYPES = {ReportFormat.PDF: "application/pdf", ReportFormat.CSV: "text/csv"}


def report_path(instance, filename):
    # Nothing from the period or the format in the name: the row says that.
    return f"board-reports/{uuid.uuid4().hex}"


class BoardReport(models.Model):
    """One quarter's report in one format. Built again, the row is kept and
    its file replaced, so a period has one current report per format."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    first_month = models.DateField()
    last_month = models.DateField()
    format = models.CharField(max_length=3, choices=ReportFormat.choices)
    file = models.FileField(upload_to=report_path, max_length=200)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    built_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["-first_month", "format"]
        constraints = [
            models.UniqueConstraint(
                fields=["first_month", "last_month", "format"],
                name="one_board_report_per_period_and_format",
            ),
            models.CheckConstraint(
                condition=models.Q(last_month__gte=models.F("first_month")),
                name="board_report_period_in_order",
            ),
        ]

    def __str__(self):
        return (
            f"Board report {self.first_month:%B %Y} to {self.last_month:%B %Y} "
            f"({self.get_format_display()})"
        )

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[ReportFormat(self.format)]

    @property
    def download_name(self) -> str:
        return (
            f"board-report-{self.first_month:%Y-%m}-to-{self.last_month:%Y-%m}"
            f".{self.format}"
        )


class FiguresSnapshot(models.Model):
    """The statistics page's figures and charts for one standard period (the
    last 12 months, each preset), drawn to HTML by the worker every few
    minutes (board.snapshots) so that no board member waits for them.

    Counts only, small ones already withheld (board.suppression): the same
    for everyone who may see the page, and no personal data. A row, not a
    cache entry: it survives a cache flush and every app server reads the
    same one (docs/caching.md)."""

    first_month = models.DateField()
    last_month = models.DateField()
    html = models.TextField()
    calculated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["first_month", "last_month"],
                name="one_figures_snapshot_per_period",
            ),
            models.CheckConstraint(
                condition=models.Q(last_month__gte=models.F("first_month")),
                name="figures_snapshot_period_in_order",
            ),
        ]

    def __str__(self):
        return (
            f"Board figures {self.first_month:%B %Y} to {self.last_month:%B %Y}, "
            f"as at {self.calculated_at:%Y-%m-%d %H:%M}"
        )
