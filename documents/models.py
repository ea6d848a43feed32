"""Files that agencies share with each other, and the published documents.

A share is one sending of one or more files, with a note, to a set of
recipient organisations (named, or everyone on a referral or at a meeting,
fixed when it is sent). Files are stored under server-generated names; the
name the sender gave is display text only. Shares expire and can be recalled;
the stored objects are then purged, but the rows and their download history
stay, because the sender must see who had the file before it went, until the
agreement's shared-file period ends (``documents.retention``).
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from wagtail.documents.models import AbstractDocument, Document

from accounts.models import Organisation
from files.storage import generated_name, shared_files_storage
from portal.dates import long_date, long_datetime


class PortalDocument(AbstractDocument):
    """Wagtail's documents (meeting resources, guidance attachments).

    A model of our own from the first migration, because swapping the document
    model later means migrating every reference to it.
    https://docs.wagtail.org/en/stable/advanced_topics/documents/custom_document_model.html
    """

    admin_form_fields = Document.admin_form_fields

    def clean(self):
        super().clean()
        # An editor's new upload meets the same rules as a shared file.
        if self.file and not getattr(self.file, "_committed", True):
            from django.core.exceptions import ValidationError

            from files.checks import FileRefused, check_file

            try:
                check_file(self.file.file)
            except FileRefused as exc:
                raise ValidationError({"file": str(exc)}) from exc

    class Meta(AbstractDocument.Meta):
        verbose_name = "document"
        verbose_name_plural = "documents"


class ShareTarget(models.TextChoices):
    ORGANISATIONS = "organisations", "Named organisations"
    REFERRAL = "referral", "Everyone who can see a referral"
    MEETING = "meeting", "Every agency invited to a meeting"


class Share(models.Model):
    wagtail_reference_index_ignore = True  # personal data stays out of Wagtail's index

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The form's one-time token: a resubmitted or double-clicked form finds the
    # share it already made instead of sending the files twice.
    submission_key = models.UUIDField(unique=True, null=True, blank=True)
    target = models.CharField(max_length=20, choices=ShareTarget.choices)
    sender_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="shares_sent"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True, max_length=2000)
    referral = models.ForeignKey(
        "referrals.Referral",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="file_shares",
    )
    meeting = models.ForeignKey(
        "meetings.Meeting",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="file_shares",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(db_index=True)
    recalled_at = models.DateTimeField(null=True, blank=True)
    recalled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    recall_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="share_expires_after_it_is_made",
                condition=models.Q(expires_at__gt=models.F("created_at")),
            ),
            models.CheckConstraint(
                name="share_target_matches_its_link",
                condition=(
                    models.Q(
                        target=ShareTarget.ORGANISATIONS,
                        referral__isnull=True,
                        meeting__isnull=True,
                    )
                    | models.Q(
                        target=ShareTarget.REFERRAL,
                        referral__isnull=False,
                        meeting__isnull=True,
                    )
                    | models.Q(
                        target=ShareTarget.MEETING,
                        referral__isnull=True,
                        meeting__isnull=False,
                    )
                ),
            ),
            models.CheckConstraint(
                name="share_recall_has_a_time_and_a_person",
                condition=models.Q(recalled_at__isnull=True, recalled_by__isnull=True)
                | models.Q(recalled_at__isnull=False, recalled_by__isnull=False),
            ),
        ]

    def __str__(self):
        return f"Files from {self.sender_organisation} on {long_date(self.created_at)}"

    def get_absolute_url(self):
        return reverse("documents:share", args=[self.public_id])

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return self.recalled_at is None and self.expires_at > now

    @property
    def state(self) -> str:
        if self.recalled_at is not None:
            return "Recalled"
        return "Available" if self.is_live() else "Expired"

    @property
    def subject(self) -> str:
        if self.referral_id:
            return f"Referral {self.referral.reference}"
        if self.meeting_id:
            return str(self.meeting)
        return ""

    @property
    def expiry_extendable_until(self):
        # The most a share may run, counted from when it was made.
        return self.created_at + timedelta(days=settings.DOCUMENTS_MAX_EXPIRY_DAYS)


class ShareRecipient(models.Model):
    wagtail_reference_index_ignore = True

    share = models.ForeignKey(
        Share, on_delete=models.CASCADE, related_name="recipients"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="shares_received"
    )

    class Meta:
        ordering = ["organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["share", "organisation"], name="one_recipient_row_per_org"
            )
        ]

    def __str__(self):
        return str(self.organisation)


def _storage_name(instance, filename):
    # The sender's filename never reaches the storage: it could carry "../",
    # control characters or personal data.
    return generated_name("shared")


class ScanStatus(models.TextChoices):
    CLEAN = "clean", "Scanned: no virus found"
    NOT_SCANNED = "not_scanned", "Not scanned (no virus scanner configured)"


class SharedFile(models.Model):
    wagtail_reference_index_ignore = True

    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="files")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    display_name = models.CharField(max_length=200)
    file = models.FileField(
        upload_to=_storage_name, storage=shared_files_storage, max_length=255
    )
    content_type = models.CharField(max_length=120)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    scan_status = models.CharField(max_length=20, choices=ScanStatus.choices)
    # Set when the stored object is deleted after expiry or recall.
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["display_name", "pk"]

    def __str__(self):
        return self.display_name

    def get_download_url(self):
        return reverse(
            "documents:download", args=[self.share.public_id, self.public_id]
        )

    @property
    def size_display(self) -> str:
        from django.template.defaultfilters import filesizeformat

        return filesizeformat(self.size)


class FileDownload(models.Model):
    """One download, kept after recall: the sender sees who had the file."""

    wagtail_reference_index_ignore = True

    file = models.ForeignKey(
        SharedFile, on_delete=models.CASCADE, related_name="downloads"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["file", "organisation"])]

    def __str__(self):
        return f"{self.file} downloaded by {self.user} at {long_datetime(self.at)}"


class ShareDisposal(models.Model):
    """What one disposal run destroyed of shared-file records whose period
    under the Information Sharing Agreement had passed: counts, a SHA-256 of
    the rows as they were, the period and version applied. It names no file,
    person or organisation, and never changes (``documents.retention``)."""

    disposed_at = models.DateTimeField(default=timezone.now)
    agreement_version = models.CharField(max_length=60)
    period_months = models.PositiveSmallIntegerField()
    # The earliest and latest sharing dates among the shares destroyed.
    shared_from = models.DateField()
    shared_to = models.DateField()
    # {"file_shares": 3, "shared_files": 4, "file_downloads": 7, ...}
    counts = models.JSONField(default=dict)
    content_hash = models.CharField(max_length=64)
    authorised_by = models.CharField(max_length=300)

    class Meta:
        ordering = ["-disposed_at", "-pk"]

    def __str__(self):
        return f"Shared-file records destroyed on {long_date(self.disposed_at)}"

    @property
    def counts_display(self) -> str:
        return ", ".join(
            f"{count} {kind.replace('_', ' ')}"
            for kind, count in self.counts.items()
            if count
        )
