"""The Information Sharing Protocol, the agreements under it, their published
versions, and each signatory organisation's acknowledgement of a version.

Pages are what editors write. Publishing (after a coordinator approves) freezes
an ``AgreementVersion``: its text, hash and signatory list never change again.
Versions and acknowledgements are append-only tables (see the migrations).
"""

import hashlib
import json
import re
from datetime import date

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from modelcluster.fields import ParentalManyToManyField
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index

from accounts.models import Organisation

VERSION_PATTERN = re.compile(r"^(\d{1,3})\.(\d{1,3})$")


class ClauseKind(models.TextChoices):
    PURPOSE = "purpose", "Purpose of sharing"
    PARTIES = "parties", "Parties and signatory organisations"
    DATA = "data", "Information shared"
    LAWFUL_BASIS = "lawful_basis", "Lawful basis"
    HANDLING = "handling", "How information is shared, stored and managed"
    RETENTION = "retention", "Retention and disposal"
    SECURITY = "security", "Security"
    RESPONSIBILITIES = "responsibilities", "Responsibilities"
    REVIEW = "review", "Review"
    OTHER = "other", "Other"


class ClauseBlock(blocks.StructBlock):
    """One clause. Its block id stays the same across versions, so versions can
    be compared clause by clause."""

    kind = blocks.ChoiceBlock(choices=ClauseKind.choices, default=ClauseKind.OTHER)
    heading = blocks.CharBlock(max_length=200)
    body = blocks.RichTextBlock(
        features=["bold", "italic", "ol", "ul", "link", "h3", "h4"]
    )

    class Meta:
        icon = "doc-full"
        label = "Clause"
        template = "agreements/blocks/clause.html"


class ChangeType(models.TextChoices):
    MATERIAL = "material", "Material: signatories must acknowledge again"
    EDITORIAL = "editorial", "Editorial: no new acknowledgement needed"


def parse_version(text: str) -> tuple[int, int]:
    match = VERSION_PATTERN.match(text or "")
    if not match:
        raise ValidationError("Enter a version number like 1.0, 1.1 or 2.0")
    return int(match.group(1)), int(match.group(2))


class AgreementIndexPage(Page):
    """/agreements/: the agreements in force and my organisation's status."""

    # Read far more than changed, the same for everyone with the same roles:
    # served from the shared page cache (portal.page_cache).
    shared_page_cache = True

    introduction = models.TextField(blank=True)

    content_panels = [*Page.content_panels, FieldPanel("introduction")]
    parent_page_types = ["home.HomePage"]
    subpage_types = ["agreements.ProtocolPage"]
    max_count = 1

    class Meta:
        verbose_name = "agreements index"

    def get_context(self, request, *args, **kwargs):
        from .selectors import agreements_in_force_for

        context = super().get_context(request, *args, **kwargs)
        context["agreements"] = agreements_in_force_for(request.user)
        return context


class AgreementPage(Page):
    """What the protocol and each agreement under it have in common."""

    # Read far more than changed, the same for everyone with the same roles:
    # served from the shared page cache (portal.page_cache).
    shared_page_cache = True

    reference = models.CharField(max_length=40, help_text="For example CSP-ISA-07")
    summary = models.TextField(
        help_text="Two or three sentences on what this agreement is for."
    )
    responsible_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Owns the agreement and receives its review reminders.",
    )
    date_of_request = models.DateField()
    effective_date = models.DateField()
    review_cycle_months = models.PositiveSmallIntegerField(
        default=12, help_text="How often it is reviewed. 12 means every year."
    )
    first_review_date = models.DateField(
        help_text=(
            "When the first version is due for review. Later review dates "
            "follow the review cycle from this date."
        )
    )
    # Only organisations taking part are offered: after a partner withdraws,
    # its box is gone, so the next version published leaves it out.
    signatory_organisations = ParentalManyToManyField(
        Organisation, related_name="+", blank=False, limit_choices_to={"active": True}
    )
    clauses = StreamField([("clause", ClauseBlock())], use_json_field=True)

    # About the version the next publish will create.
    next_version = models.CharField(
        "version number to publish",
        max_length=7,
        default="1.0",
        help_text="The number the next published version gets, like 1.1 or 2.0.",
    )
    change_type = models.CharField(
        max_length=16, choices=ChangeType.choices, default=ChangeType.MATERIAL
    )
    change_summary = models.TextField(
        blank=True, help_text="What changed since the last version, for signatories."
    )
    completes_review = models.BooleanField(
        "this version completes the scheduled review",
        default=False,
        help_text=(
            "Moves the next review date on by one review cycle, counted from the "
            "date the review was due. Cleared once this version is published."
        ),
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("summary"),
        MultiFieldPanel(
            [
                FieldRowPanel(
                    [FieldPanel("reference"), FieldPanel("responsible_officer")]
                ),
                FieldRowPanel(
                    [FieldPanel("date_of_request"), FieldPanel("effective_date")]
                ),
                FieldRowPanel(
                    [FieldPanel("review_cycle_months"), FieldPanel("first_review_date")]
                ),
                FieldPanel(
                    "signatory_organisations", widget=forms.CheckboxSelectMultiple
                ),
            ],
            heading="About this agreement",
        ),
        FieldPanel("clauses"),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("next_version"), FieldPanel("change_type")]),
                FieldPanel("change_summary"),
                FieldPanel("completes_review"),
            ],
            heading="The version this publish creates",
        ),
    ]

    # Site search finds an agreement by any word of its live (published) text,
    # not only its title. Drafts live in revisions, which are never indexed.
    search_fields = [
        *Page.search_fields,
        index.SearchField("reference"),
        index.SearchField("summary"),
        index.SearchField("clauses"),
    ]

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        major_minor = parse_version(self.next_version)
        latest = self.latest_version
        if latest is not None and major_minor <= (latest.major, latest.minor):
            raise ValidationError(
                {
                    "next_version": (
                        f"Version {latest.number} is already published. Enter a "
                        f"higher number, such as {latest.major}.{latest.minor + 1} "
                        f"or {latest.major + 1}.0"
                    )
                }
            )
        if latest is not None and not self.change_summary.strip():
            raise ValidationError(
                {"change_summary": "Say what changed since the last version"}
            )
        if (
            self.first_review_date
            and self.effective_date
            and (self.first_review_date <= self.effective_date)
        ):
            raise ValidationError(
                {"first_review_date": "Choose a review date after the effective date"}
            )

    @property
    def latest_version(self):
        if not self.pk:
            return None
        return (
            AgreementVersion.objects.filter(page_id=self.pk)
            .order_by("-major", "-minor")
            .first()
        )

    def get_context(self, request, *args, **kwargs):
        from .selectors import agreement_page_context

        context = super().get_context(request, *args, **kwargs)
        context.update(
            agreement_page_context(self, request.user, request.GET.get("version"))
        )
        return context


class ProtocolPage(AgreementPage):
    """The overarching Information Sharing Protocol."""

    parent_page_types = ["agreements.AgreementIndexPage"]
    subpage_types = ["agreements.SharingAgreementPage"]
    template = "agreements/agreement_page.html"

    class Meta:
        verbose_name = "information sharing protocol"


class SharingAgreementPage(AgreementPage):
    """An Information Sharing Agreement (ISA) under the protocol.

    Its retention periods are data, frozen with each version: the disposal job
    applies the periods of the version in force on the day it runs
    (``agreements.retention``).
    """

    case_retention_months = models.PositiveSmallIntegerField(
        "case material: months after the case closes",
        default=24,
        validators=[MinValueValidator(1)],
        help_text="Referrals, people, attachments, agenda items and actions.",
    )
    shared_file_retention_months = models.PositiveSmallIntegerField(
        "shared-file records: months after the files were shared",
        default=24,
        validators=[MinValueValidator(1)],
    )
    meeting_retention_months = models.PositiveSmallIntegerField(
        "meeting packs and minutes: months after the meeting",
        default=24,
        validators=[MinValueValidator(1)],
    )
    audit_retention_years = models.PositiveSmallIntegerField(
        "audit events: years",
        default=6,
        validators=[MinValueValidator(1)],
    )

    content_panels = [
        *AgreementPage.content_panels[:-1],
        MultiFieldPanel(
            [
                FieldRowPanel(
                    [
                        FieldPanel("case_retention_months"),
                        FieldPanel("shared_file_retention_months"),
                    ]
                ),
                FieldRowPanel(
                    [
                        FieldPanel("meeting_retention_months"),
                        FieldPanel("audit_retention_years"),
                    ]
                ),
            ],
            heading="Retention periods",
        ),
        AgreementPage.content_panels[-1],
    ]

    parent_page_types = ["agreements.ProtocolPage"]
    subpage_types = []
    template = "agreements/agreement_page.html"

    def retention_periods(self) -> dict[str, int]:
        return {key: getattr(self, field) for key, field in RETENTION_FIELDS}

    class Meta:
        verbose_name = "information sharing agreement"


# The frozen retention periods: the key in ``AgreementVersion.retention``, the
# page field it is copied from, and how it reads.
RETENTION_FIELDS = (
    ("case_months", "case_retention_months"),
    ("shared_file_months", "shared_file_retention_months"),
    ("meeting_months", "meeting_retention_months"),
    ("audit_years", "audit_retention_years"),
)
RETENTION_LABELS = {
    "case_months": "Case material: {} months after the case closes",
    "shared_file_months": "Shared-file records: {} months after sharing",
    "meeting_months": "Meeting packs and minutes: {} months after the meeting",
    "audit_years": "Audit events: {} years",
}


def retention_lines(retention: dict | None) -> list[str]:
    """The retention periods in words, in a fixed order."""
    if not retention:
        return []
    return [
        RETENTION_LABELS[key].format(retention[key])
        for key, _ in RETENTION_FIELDS
        if key in retention
    ]


class AgreementVersion(models.Model):
    """A published version, frozen: text, hash and signatories never change."""

    page = models.ForeignKey(
        Page, on_delete=models.PROTECT, related_name="agreement_versions"
    )
    kind = models.CharField(max_length=40)  # the page type's verbose name
    title = models.CharField(max_length=255)
    reference = models.CharField(max_length=40)
    major = models.PositiveSmallIntegerField()
    minor = models.PositiveSmallIntegerField()
    change_type = models.CharField(max_length=16, choices=ChangeType.choices)
    change_summary = models.TextField(blank=True)
    published_at = models.DateTimeField()
    # No database foreign key: a frozen row must not be touched by cascades.
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    published_by_label = models.CharField(max_length=200)
    revision_id = models.PositiveBigIntegerField(null=True)
    effective_date = models.DateField()
    next_review_date = models.DateField()
    review_cycle_months = models.PositiveSmallIntegerField()
    responsible_officer_label = models.CharField(max_length=200)
    # [{"id": 3, "name": "..."}]: who must acknowledge this version.
    signatories = models.JSONField()
    # [{"id": block id, "kind", "heading", "html", "text"}] in order.
    clauses = models.JSONField()
    # {"case_months": 24, ...} (RETENTION_FIELDS) for an ISA; null for the
    # protocol and for versions published before periods were data. Nullable
    # so adding it leaves the append-only table and its triggers untouched.
    retention = models.JSONField(null=True, blank=True)
    canonical_text = models.TextField()
    content_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["page_id", "-major", "-minor"]
        constraints = [
            models.UniqueConstraint(
                fields=["page", "major", "minor"], name="one_version_number_per_page"
            )
        ]

    def __str__(self):
        return f"{self.title} v{self.number}"

    @property
    def number(self) -> str:
        return f"{self.major}.{self.minor}"

    @property
    def retention_lines(self) -> list[str]:
        return retention_lines(self.retention)

    @property
    def is_material(self) -> bool:
        return self.change_type == ChangeType.MATERIAL

    @property
    def signatory_ids(self) -> set[int]:
        return {entry["id"] for entry in self.signatories}

    def compute_content_hash(self) -> str:
        return hashlib.sha256(self.canonical_text.encode()).hexdigest()

    @cached_property
    def current(self) -> "AgreementVersion":
        return (
            AgreementVersion.objects.filter(page_id=self.page_id)
            .order_by("-major", "-minor")
            .first()
        )

    @property
    def is_current(self) -> bool:
        return self.current.pk == self.pk

    def review_overdue(self, today: date | None = None) -> bool:
        return self.next_review_date < (today or timezone.localdate())


class Acknowledgement(models.Model):
    """A signatory organisation's acknowledgement of one version: the receipt."""

    version = models.ForeignKey(
        AgreementVersion, on_delete=models.PROTECT, related_name="acknowledgements"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="acknowledgements"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    # Snapshots, so the receipt reads the same after a rename.
    organisation_name = models.CharField(max_length=200)
    username = models.CharField(max_length=150)
    signatory_name = models.CharField(max_length=200)
    signatory_role = models.CharField(max_length=200)
    acknowledged_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True)
    content_hash = models.CharField(max_length=64)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-acknowledged_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "organisation"],
                name="one_acknowledgement_per_organisation_per_version",
            )
        ]

    def __str__(self):
        return f"{self.organisation} acknowledged {self.version}"

    def canonical(self) -> str:
        return json.dumps(
            {
                "version": self.version_id,
                "organisation": self.organisation_id,
                "organisation_name": self.organisation_name,
                "user": self.user_id,
                "username": self.username,
                "signatory_name": self.signatory_name,
                "signatory_role": self.signatory_role,
                "acknowledged_at": self.acknowledged_at.isoformat(),
                "ip_address": self.ip_address,
                "content_hash": self.content_hash,
                "previous_hash": self.previous_hash,
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical().encode()).hexdigest()


class ReminderSent(models.Model):
    """One row per review reminder threshold sent, so each goes out once."""

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="+")
    review_date = models.DateField()
    days_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["page", "review_date", "days_before"],
                name="one_reminder_per_threshold",
            )
        ]

    def __str__(self):
        return f"{self.days_before}-day reminder for {self.review_date}"
