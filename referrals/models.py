"""Referral drafts, submitted referrals, the people in them, and their history.

A draft keeps exactly what the referrer typed, section by section, valid or
not, so nothing is lost. Submitting turns a complete draft into a referral
holding the cleaned answers; the people are also kept as rows so that names
and dates of birth can be searched and repeat referrals found.

None of these models is in Wagtail's reference index: they link only to
people and organisations, which its usage reports do not need, and indexing
them would add a query to every write.
"""

import re
import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation


class Status(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    SCREENING = "screening", "Screening"
    INFORMATION_REQUESTED = "information_requested", "More information requested"
    ACCEPTED = "accepted", "Accepted"
    REDIRECTED = "redirected", "Redirected to another panel"
    DECLINED = "declined", "Declined"
    CLOSED = "closed", "Closed"
    WITHDRAWN = "withdrawn", "Withdrawn by the referring agency"


OPEN_STATUSES = (
    Status.SUBMITTED,
    Status.SCREENING,
    Status.INFORMATION_REQUESTED,
    Status.ACCEPTED,
)


class RiskLevel(models.TextChoices):
    STANDARD = "standard", "Standard"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class PersonRole(models.TextChoices):
    VICTIM = "victim", "Victim"
    WITNESS = "witness", "Witness"
    CAUSING_HARM = "causing_harm", "Person causing harm"
    AT_RISK = "at_risk", "Other person at risk"


class Referral(models.Model):
    """A submitted referral and where it stands in the screening workflow."""

    wagtail_reference_index_ignore = True  # see the module docstring

    reference = models.CharField(max_length=20, unique=True, editable=False)
    year = models.PositiveSmallIntegerField(editable=False)
    number = models.PositiveIntegerField(editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="referrals"
    )
    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referrals"
    )
    status = models.CharField(
        max_length=30, choices=Status.choices, default=Status.SUBMITTED, db_index=True
    )
    urgent = models.BooleanField(
        default=False, help_text="Risk of serious harm before the next meeting."
    )
    risk_level = models.CharField(max_length=20, choices=RiskLevel.choices)
    asb_types = models.JSONField(default=list, blank=True)
    do_not_disclose = models.BooleanField(
        "Do not disclose to the person causing harm", default=False
    )
    anonymous_source = models.BooleanField(
        "Source wishes to remain anonymous", default=False
    )
    # The cleaned answers, section by section, as JSON-safe values.
    answers = models.JSONField(default=dict)
    submitted_at = models.DateTimeField(db_default=Now(), db_index=True)
    status_changed_at = models.DateTimeField(db_default=Now())
    # When the case reached closed, declined or redirected: the retention
    # period runs from here (referrals.retention).
    closed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    redirected_to = models.CharField(max_length=200, blank=True)
    outcome_reason = models.TextField(blank=True)
    feedback = models.TextField(
        blank=True, help_text="What the referrer was told when the case closed."
    )
    # Screening: a coordinator approved the referrer's justification for
    # sharing without consent. Until then a case without consent is shared
    # only with organisations a coordinator names (docs/features.md).
    sharing_without_consent_approved_at = models.DateTimeField(null=True, blank=True)
    sharing_without_consent_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    sharing_without_consent_reason = models.TextField(blank=True)
    # A person in it was referred in the 12 months before, as the records
    # stood at submission (the rule and what changes it: referrals.repeats).
    is_repeat = models.BooleanField(
        "Repeat referral within 12 months", default=False, editable=False
    )
    started_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The earlier referral this one was pre-filled from.",
    )

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "number"], name="referral_number_unique_per_year"
            ),
            models.CheckConstraint(
                condition=models.Q(number__gte=1), name="referral_number_positive"
            ),
        ]
        permissions = [("screen_referral", "Can screen referrals")]

    def __str__(self):
        return self.reference

    def get_absolute_url(self):
        return reverse("referrals:detail", args=[self.reference])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def consent_given(self) -> bool:
        consent = self.answers.get("consent", {}).get("fields", {})
        return consent.get("consent") == "obtained"

    @property
    def sharing_restricted(self) -> bool:
        """No consent and no approved justification: only organisations a
        coordinator names, with a reason, may see the case."""
        return (
            not self.consent_given and self.sharing_without_consent_approved_at is None
        )

    @property
    def subject_names(self) -> str:
        """Names of the people referred, for lists and search results."""
        return ", ".join(person.full_name for person in self.people.all())


class ReferenceCounter(models.Model):
    """The last reference number given out in a year (gapless per year)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last_number}"


def name_key(name: str) -> str:
    """Lower-case letters only, words sorted: matches despite punctuation and order.

    Apostrophes join (O'Brien is obrien); other punctuation separates words.
    """
    words = re.findall(r"[^\W\d_]+", re.sub(r"['\u2019]", "", name.casefold()))
    return " ".join(sorted(words))


class ReferralPerson(models.Model):
    """A person named in a referral, kept searchable for repeat detection."""

    wagtail_reference_index_ignore = True  # see the module docstring

    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, related_name="people"
    )
    position = models.PositiveSmallIntegerField()
    role = models.CharField(max_length=20, choices=PersonRole.choices)
    full_name = models.CharField(max_length=200)
    # Lower case, letters only: "O'Brien, Mary-Jane" and "mary jane obrien" match.
    name_key = models.CharField(max_length=200, db_index=True)
    date_of_birth = models.DateField(null=True, blank=True)
    age = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["referral", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "position"], name="referral_person_position"
            )
        ]
        indexes = [models.Index(fields=["name_key", "date_of_birth"])]

    def __str__(self):
        return f"{self.full_name} ({self.get_role_display()})"


class EventKind(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    TRANSITION = "transition", "Status changed"
    INFORMATION_REQUESTED = "information_requested", "More information requested"
    INFORMATION_PROVIDED = "information_provided", "Information provided"


class ReferralEvent(models.Model):
    """One step in a referral's history: who did what, when and why."""

    wagtail_reference_index_ignore = True  # see the module docstring

    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=30, choices=EventKind.choices)
    from_status = models.CharField(max_length=30, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=30, choices=Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    actor_label = models.CharField(max_length=300)
    organisation_label = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(db_default=Now())
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.referral}: {self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"


class ShareReason(models.TextChoices):
    """Why an organisation outside the referring one may see a case."""

    INFORMATION = "information", "Holds information relevant to the case"
    ACTION = "action", "Owns an action agreed for the case"
    SAFEGUARDING = (
        "safeguarding",
        "Has a safeguarding concern about someone in the case",
    )


class ReferralShareQuerySet(models.QuerySet):
    def in_force(self, now=None):
        """Shares that give access now: not ended and not past their end."""
        return self.filter(ended_at__isnull=True, ends_at__gt=now or timezone.now())


class ReferralShare(models.Model):
    """An organisation outside the referring one that may see a referral, why,
    who decided, and until when (docs/features.md, "Who sees what").

    Shares are never deleted: an ended share keeps who ended it and why, so
    the case page and the audit log can say who could see the case when.
    Rows are written only by ``referrals.services`` (``referral_share_*``).
    """

    wagtail_reference_index_ignore = True  # see the module docstring

    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, related_name="shares"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="referral_shares"
    )
    reason = models.CharField(max_length=30, choices=ShareReason.choices)
    # Granted by inviting the organisation to the case at a meeting (ends when
    # it is no longer invited), rather than named by a coordinator on the case.
    via_meeting = models.BooleanField(default=False)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(db_default=Now())
    ends_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    end_reason = models.TextField(blank=True)

    objects = ReferralShareQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "organisation"],
                condition=models.Q(ended_at__isnull=True),
                name="referral_share_one_open",
            )
        ]
        indexes = [models.Index(fields=["organisation", "ended_at"])]

    def __str__(self):
        return f"{self.referral} shared with {self.organisation}"

    @property
    def in_force(self) -> bool:
        return self.ended_at is None and self.ends_at > timezone.now()


class SectionState(models.TextChoices):
    NOT_STARTED = "not_started", "Not yet started"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"


class ReferralDraft(models.Model):
    """A referral being written: what its author typed, kept on the server.

    ``answers`` holds each section's submitted form data exactly as typed,
    so a page with mistakes comes back as it was left, after a sign-out too.
    Once submitted the answers are cleared and ``referral`` is set: a second
    submit of the same draft finds it and creates nothing.
    """

    wagtail_reference_index_ignore = True  # see the module docstring

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="referral_drafts",
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="+"
    )
    answers = models.JSONField(default=dict, blank=True)
    states = models.JSONField(default=dict, blank=True)
    # How many times each section was saved: a page posts the number it was
    # shown with, so a save from a stale page (an autosave still on its way,
    # another window) is noticed instead of overwriting newer answers.
    revisions = models.JSONField(default=dict, blank=True)
    started_from = models.ForeignKey(
        Referral, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now())
    referral = models.OneToOneField(
        Referral,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="draft",
    )

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self):
        return f"Draft referral {self.public_id} by {self.owner}"

    @property
    def is_submitted(self) -> bool:
        return self.referral_id is not None

    def state(self, section: str) -> str:
        return self.states.get(section, SectionState.NOT_STARTED)

    def revision(self, section: str) -> int:
        return int(self.revisions.get(section, 0))


class AttachmentVisibility(models.TextChoices):
    """Who outside the referring agency may see an attached file.

    The rule for who sees what lives in ``referrals.redaction``.
    """

    RESTRICTED = "restricted", "The referring agency and coordinators only"
    SHARED = "shared", "Every agency the case is shared with"


def attachment_path(instance, filename):
    # Random names: the original file name is kept in the row, never the path.
    return f"referrals/{uuid.uuid4().hex}"


class ReferralAttachment(models.Model):
    """A file attached to a referral (a risk assessment), in private storage."""

    wagtail_reference_index_ignore = True  # see the module docstring

    draft = models.ForeignKey(
        ReferralDraft,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="attachments",
    )
    referral = models.ForeignKey(
        Referral,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attachments",
    )
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    visibility = models.CharField(
        "Who can see this file", max_length=20, choices=AttachmentVisibility.choices
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self):
        return self.original_name


class CaseNote(models.Model):
    """A note added to an accepted case by a coordinator or an agency with
    access to it: what was done or learned since the meeting.

    Notes are a record: they are only ever added, never edited or deleted
    (a correction is a further note), and go with the case when it is
    disposed of (``referrals.retention``). Who reads which note is
    ``referrals.redaction``'s rule.
    """

    wagtail_reference_index_ignore = True  # see the module docstring

    referral = models.ForeignKey(
        Referral, on_delete=models.PROTECT, related_name="notes"
    )
    text = models.TextField()
    # Only coordinators read it: for what the agencies must not see.
    coordinators_only = models.BooleanField(default=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    # Kept as written, so the note still says who wrote it after an account
    # or organisation is renamed or removed.
    author_label = models.CharField(max_length=300)
    organisation_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["referral", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(text=""), name="case_note_has_text"
            )
        ]

    def __str__(self):
        return f"{self.referral}: note at {self.created_at:%Y-%m-%d %H:%M}"


class FreeTextReviewKind(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed: no identifying details in the free text"
    SUMMARY = "summary", "Summary written for partner agencies"


class ReferralFreeTextReview(models.Model):
    """A coordinator's check of a flagged referral's free-text answers.

    A referral marked "do not disclose" or "anonymous source" is accepted only
    after a coordinator confirms its free text names nobody it protects, or
    writes a summary that other agencies see instead (``referrals.redaction``).
    """

    wagtail_reference_index_ignore = True  # see the module docstring

    referral = models.OneToOneField(
        Referral, on_delete=models.CASCADE, related_name="free_text_review"
    )
    kind = models.CharField(max_length=20, choices=FreeTextReviewKind.choices)
    summary = models.TextField(
        "Summary for partner agencies",
        blank=True,
        help_text="Replaces the free-text answers for agencies other than the "
        "referring one.",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reviewed_by_label = models.CharField(max_length=300)
    reviewed_at = models.DateTimeField(db_default=Now())

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="confirmed", summary="")
                    | (models.Q(kind="summary") & ~models.Q(summary=""))
                ),
                name="free_text_review_summary_only_with_kind",
            )
        ]

    def __str__(self):
        return f"{self.referral}: {self.get_kind_display()}"


class LegalHold(models.Model):
    """A coordinator's hold on a case: while it stands, the case is not
    disposed of, whatever its retention period says (``referrals.retention``).
    Removing a hold keeps the row, with who removed it and why."""

    wagtail_reference_index_ignore = True  # see the module docstring

    referral = models.ForeignKey(
        Referral, on_delete=models.PROTECT, related_name="legal_holds"
    )
    reason = models.TextField()
    review_date = models.DateField(help_text="When the hold is looked at again.")
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(default=timezone.now)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    removed_at = models.DateTimeField(null=True, blank=True)
    removal_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-placed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["referral"],
                condition=models.Q(removed_at__isnull=True),
                name="one_standing_hold_per_referral",
            ),
            models.CheckConstraint(
                condition=models.Q(removed_at__isnull=True, removed_by__isnull=True)
                | (
                    models.Q(removed_at__isnull=False, removed_by__isnull=False)
                    & ~models.Q(removal_reason="")
                ),
                name="hold_removal_has_a_time_a_person_and_a_reason",
            ),
        ]

    def __str__(self):
        return f"Legal hold on {self.referral}"

    @property
    def is_standing(self) -> bool:
        return self.removed_at is None


class DisposalReason(models.TextChoices):
    RETENTION = "retention", "Retention period"
    ERASURE = "erasure", "Erasure request"


class Tombstone(models.Model):
    """What is left of a disposed case: proof of what was destroyed, when and
    under which agreement, and nothing about the people in it. Its reference
    is never given out again (``services.reference_allocate``)."""

    reference = models.CharField(max_length=20, unique=True)
    year = models.PositiveSmallIntegerField()
    number = models.PositiveIntegerField()
    submitted_at = models.DateTimeField()
    closed_at = models.DateTimeField()
    disposed_at = models.DateTimeField(default=timezone.now)
    agreement_version = models.CharField(max_length=60)
    period_months = models.PositiveSmallIntegerField()
    # {"people": 3, "attachments": 1, "agenda_items": 2, ...}
    counts = models.JSONField(default=dict)
    # SHA-256 of the canonical JSON of every row destroyed (referrals.retention).
    content_hash = models.CharField(max_length=64)
    authorised_by = models.CharField(max_length=300)
    # Why the case went: its retention period ran out, or the data protection
    # officer upheld a request to erase it (UK GDPR Article 17).
    reason = models.CharField(
        max_length=10, choices=DisposalReason.choices, default=DisposalReason.RETENTION
    )

    class Meta:
        ordering = ["-disposed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "number"], name="tombstone_number_unique_per_year"
            )
        ]

    def __str__(self):
        return f"{self.reference} (disposed of)"

    @property
    def counts_display(self) -> str:
        """ "1 referrals, 3 people, ..." without the kinds that had none."""
        return ", ".join(
            f"{count} {kind.replace('_', ' ')}"
            for kind, count in self.counts.items()
            if count
        )


class RetentionRun(models.Model):
    """One run of ``manage.py apply_retention``: the last finished one is what
    /health/ and the coordinators' home page watch."""

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    dry_run = models.BooleanField(default=False)
    disposed = models.PositiveIntegerField(default=0)
    held = models.PositiveIntegerField(default=0)
    authorised_by = models.CharField(max_length=300)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self):
        return f"Retention run at {self.started_at:%Y-%m-%d %H:%M}"


class RestrictionQuerySet(models.QuerySet):
    def in_force(self, today=None):
        """Restrictions that stand now: not lifted and not past their end
        date (the end date is the last day the case is restricted)."""
        today = today or timezone.localdate()
        return self.filter(lifted_at__isnull=True).filter(
            models.Q(until__isnull=True) | models.Q(until__gte=today)
        )


class CaseRestriction(models.Model):
    """Restriction of processing (UK GDPR Article 18) on a case: while it
    stands the case is kept and read, but not put on an agenda, shared, or
    put in a meeting pack (``referrals.services.restriction``).

    Lifting keeps the row, with who lifted it, when and why, so the case's
    history shows every restriction. The reason may name the person who asked
    (it often records a dispute about accuracy), so only coordinators read it;
    agencies see that the case is restricted and since when.
    """

    wagtail_reference_index_ignore = True  # see the module docstring

    referral = models.ForeignKey(
        Referral, on_delete=models.PROTECT, related_name="restrictions"
    )
    reason = models.TextField()
    restricted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    restricted_by_label = models.CharField(max_length=300)
    restricted_at = models.DateTimeField(default=timezone.now)
    until = models.DateField(
        null=True, blank=True, help_text="The last day of the restriction, if known."
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    # None with a lift time: the end date passed (the daily job recorded it).
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    lifted_by_label = models.CharField(max_length=300, blank=True)
    lift_reason = models.TextField(blank=True)

    objects = RestrictionQuerySet.as_manager()

    class Meta:
        ordering = ["-restricted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["referral"],
                condition=models.Q(lifted_at__isnull=True),
                name="one_standing_restriction_per_referral",
            ),
            models.CheckConstraint(
                condition=models.Q(lifted_at__isnull=True, lift_reason="")
                | (models.Q(lifted_at__isnull=False) & ~models.Q(lift_reason="")),
                name="restriction_lift_has_a_time_and_a_reason",
            ),
        ]

    def __str__(self):
        return f"Restriction of processing on {self.referral}"

    @property
    def in_force(self) -> bool:
        return self.lifted_at is None and (
            self.until is None or self.until >= timezone.localdate()
        )


class ReferralAmendment(models.Model):
    """A correction to one answer of a submitted referral (UK GDPR Article
    16): which answer, what it was and what it is now, who changed it, when
    and why. ``version`` counts the referral's amendments from 1; the
    referral's ``answers`` always hold the latest values.

    ``before`` and ``after`` are the answer's cleaned values (JSON), shown
    through the form's own labels and choices. They are personal data, so
    the row is disposed of with the case (``referrals.retention``).
    """

    wagtail_reference_index_ignore = True  # see the module docstring

    referral = models.ForeignKey(
        Referral, on_delete=models.PROTECT, related_name="amendments"
    )
    version = models.PositiveIntegerField()
    section = models.CharField(max_length=40)
    # The list the answer is in ("people", "children", ...) and its position
    # from 0, or "" and None for a section's own question.
    item_prefix = models.CharField(max_length=40, blank=True)
    item_index = models.PositiveSmallIntegerField(null=True, blank=True)
    field_name = models.CharField(max_length=60)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField()
    amended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    amended_by_label = models.CharField(max_length=300)
    organisation_label = models.CharField(max_length=200, blank=True)
    amended_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["version"]
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "version"], name="amendment_version_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="amendment_version_positive"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(item_prefix="", item_index__isnull=True)
                    | (~models.Q(item_prefix="") & models.Q(item_index__isnull=False))
                ),
                name="amendment_item_has_a_list_and_a_position",
            ),
        ]

    def __str__(self):
        return f"{self.referral}: amendment {self.version}"

    @property
    def answer_key(self) -> str:
        """``section.field`` or ``section.list.position.field``: the answer's
        name in URLs (``referrals.amendments``)."""
        if self.item_prefix:
            return (
                f"{self.section}.{self.item_prefix}.{self.item_index}.{self.field_name}"
            )
        return f"{self.section}.{self.field_name}"
