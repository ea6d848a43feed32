"""The person index: every place the portal holds a person's name, date of
birth, postcode or phone number, or a free text that may name them.

One row per mention: a person in a referral (named in the people list, as a
household member or as a child), or one free-text field (an answer, an agenda
item's discussion, an action, a share's note, a shared file's name) with the
postcodes and phone numbers found in it. Each row says which record it comes
from (``source_type``/``source_id``) and which case, meeting or share that
record belongs to, so a search answers "where is this person" and a data
subject access request can be built from the records found.

The rows are derived: ``rights.receivers`` rewrite a record's rows when it is
saved and delete them when it is deleted, ``manage.py rebuild_person_index``
rebuilds everything (nightly, for writes that skip signals), and a disposed
case takes its rows with it (``rights.retention``). Nothing here is the
record itself: a correction is made to the record, and the index follows.
"""

import uuid

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


class MentionKind(models.TextChoices):
    PERSON = "person", "Person named in a list"
    TEXT = "text", "Free text"


class PersonMention(models.Model):
    wagtail_reference_index_ignore = True  # personal data stays out of Wagtail's

    source_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+"
    )
    source_id = models.PositiveBigIntegerField()
    # What the record belongs to. Cascades: an index row never outlives its
    # case, meeting or share, however they are deleted.
    referral = models.ForeignKey(
        "referrals.Referral",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    meeting = models.ForeignKey(
        "meetings.Meeting",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    share = models.ForeignKey(
        "documents.Share",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(max_length=10, choices=MentionKind.choices)
    # Where in the record: a machine path ("people.0.full_name") and the words
    # a person reads ("People, person 1: Full name").
    field = models.CharField(max_length=100)
    field_label = models.CharField(max_length=300)
    # The person's part, for a person in a list: "Victim", "Child".
    described_as = models.CharField(max_length=100, blank=True)
    # Normalised forms (rights.matching), never shown as they are.
    name = models.CharField(max_length=300, blank=True, db_index=True)
    name_variants = models.TextField(blank=True)
    date_of_birth = models.DateField(null=True, blank=True, db_index=True)
    postcode = models.CharField(max_length=10, blank=True, db_index=True)
    phone = models.CharField(max_length=16, blank=True, db_index=True)
    text = models.TextField(blank=True)
    # When the record was made: a referral's submission, a meeting's date.
    recorded_at = models.DateTimeField(null=True, blank=True)
    indexed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(
                fields=["source_type", "source_id"], name="rights_mention_source"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="rights_mention_holds_something",
                condition=~models.Q(name="")
                | models.Q(date_of_birth__isnull=False)
                | ~models.Q(postcode="")
                | ~models.Q(phone="")
                | ~models.Q(text=""),
            )
        ]

    def __str__(self):
        return f"{self.source_type.model} {self.source_id}: {self.field_label}"


# Requests from the people the partnership holds data about ------------------------


class SarStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    IDENTITY_CHECKED = "identity_checked", "Identity checked"
    SEARCHING = "searching", "Searching"
    REVIEWING = "reviewing", "Reviewing"
    READY = "ready", "Ready to disclose"
    DISCLOSED = "disclosed", "Disclosed"
    CLOSED = "closed", "Closed"
    REFUSED = "refused", "Refused"


# Statuses in which the clock has stopped: no reminders, no more changes.
SAR_FINISHED = (SarStatus.DISCLOSED, SarStatus.CLOSED, SarStatus.REFUSED)


class IdentityMethod(models.TextChoices):
    DOCUMENTS = "documents", "Identity documents seen"
    KNOWN = "known", "Known to the partnership (details match the records)"
    REPRESENTATIVE = "representative", "Representative's authority checked"
    OTHER = "other", "Another way (say how in the note)"


class SubjectAccessRequest(models.Model):
    """A person's request to see what the partnership holds about them
    (UK GDPR Article 15). The requester's details are personal data: they
    are used to search the index and are destroyed with the request at the
    end of its own retention period (docs/retention.md)."""

    wagtail_reference_index_ignore = True

    reference = models.CharField(max_length=20, unique=True)
    requester_name = models.CharField(max_length=200)
    requester_date_of_birth = models.DateField(null=True, blank=True)
    requester_address = models.TextField(blank=True)
    requester_phone = models.CharField(max_length=30, blank=True)
    received_on = models.DateField()
    identity_method = models.CharField(
        max_length=20, choices=IdentityMethod.choices, blank=True
    )
    identity_note = models.TextField(blank=True)
    identity_checked_on = models.DateField(null=True, blank=True)
    identity_checked_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    extension_months = models.PositiveSmallIntegerField(default=0)
    extension_reason = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=SarStatus.choices, default=SarStatus.RECEIVED
    )
    refusal_reason = models.TextField(blank=True)
    opened_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    disclosed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The due date each reminder was last sent for (rights.sar): each goes
    # once per due date, and again if an extension moves the date.
    week_reminder_for = models.DateField(null=True, blank=True)
    day_reminder_for = models.DateField(null=True, blank=True)
    overdue_reminder_for = models.DateField(null=True, blank=True)
    # The disclosure bundle is built in the background (rights.tasks): the
    # version last asked for, who asked (told when it is ready) and when.
    # Ahead of the latest built version, its build is queued or running,
    # unless ``bundle_failure`` says why it failed (plain words for the page).
    bundle_requested_version = models.PositiveSmallIntegerField(default=0)
    bundle_requested_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    bundle_requested_at = models.DateTimeField(null=True, blank=True)
    bundle_failure = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-received_on", "-pk"]
        verbose_name = "subject access request"
        constraints = [
            models.CheckConstraint(
                name="rights_sar_extension_at_most_two_months",
                condition=models.Q(extension_months__lte=2),
            ),
            models.CheckConstraint(
                name="rights_sar_extension_has_reason",
                condition=models.Q(extension_months=0) | ~models.Q(extension_reason=""),
            ),
            models.CheckConstraint(
                name="rights_sar_refusal_has_reason",
                condition=~models.Q(status="refused") | ~models.Q(refusal_reason=""),
            ),
        ]

    def __str__(self):
        return self.reference

    @property
    def clock_starts_on(self):
        """Receipt, or identity verification if that came later (ICO: the
        time limit starts once the requester's identity is confirmed)."""
        checked = self.identity_checked_on
        if checked and checked > self.received_on:
            return checked
        return self.received_on

    @property
    def due_on(self):
        from .deadlines import sar_due_on

        return sar_due_on(self.clock_starts_on, self.extension_months)

    @property
    def is_finished(self) -> bool:
        return self.status in SAR_FINISHED

    def bundle_state(self, built_version: int) -> str:
        """``BundleState`` of the version last asked for, given the latest
        version built (0 for none)."""
        if self.bundle_requested_version <= built_version:
            return BundleState.NONE
        return BundleState.FAILED if self.bundle_failure else BundleState.PREPARING


class BundleState(models.TextChoices):
    """Where the bundle version last asked for is (not stored: it follows
    from the request's ``bundle_*`` fields and the versions built)."""

    NONE = "", "Built, or none asked for"
    PREPARING = "preparing", "Queued or being built"
    FAILED = "failed", "The build failed"


class ItemDecision(models.TextChoices):
    DISCLOSE = "disclose", "Disclose"
    WITHHOLD = "withhold", "Withhold under an exemption"


class Exemption(models.TextChoices):
    """Data Protection Act 2018 exemptions from the right of access, in our
    own words. https://www.legislation.gov.uk/ukpga/2018/12/schedule/2"""

    CRIME = (
        "sch2-1-2",
        (
            "Schedule 2, paragraph 2: disclosure would harm preventing or detecting "
            "crime, or catching or prosecuting offenders"
        ),
    )
    LEGAL_PROCEEDINGS = (
        "sch2-1-5",
        (
            "Schedule 2, paragraph 5: needed for legal proceedings, legal advice or "
            "defending legal rights"
        ),
    )
    THIRD_PARTY = (
        "sch2-3-16",
        (
            "Schedule 2, Part 3, paragraph 16: it would reveal another person who "
            "has not agreed and whom it is not reasonable to name"
        ),
    )
    LEGAL_PRIVILEGE = (
        "sch2-4-19",
        ("Schedule 2, Part 4, paragraph 19: legal professional privilege"),
    )
    HEALTH = (
        "sch3-2",
        (
            "Schedule 3, Part 2: health information whose disclosure would be likely "
            "to cause serious harm (serious harm test)"
        ),
    )
    SOCIAL_WORK = (
        "sch3-3",
        (
            "Schedule 3, Part 3: social work information whose disclosure would be "
            "likely to cause serious harm (serious harm test)"
        ),
    )
    EDUCATION = (
        "sch3-4",
        (
            "Schedule 3, Part 4: education information whose disclosure would be "
            "likely to cause serious harm (serious harm test)"
        ),
    )


class SarItem(models.Model):
    """One record chosen for a request, and the officer's decision on it.
    The record is named by its kind and id (``rights.sources``); its content
    is read afresh when a bundle is built, so nothing is copied here."""

    sar = models.ForeignKey(
        SubjectAccessRequest, on_delete=models.CASCADE, related_name="items"
    )
    source_key = models.CharField(max_length=30)
    source_id = models.PositiveBigIntegerField()
    # The case the record belongs to: a disposed case takes its items with it
    # (rights.retention).
    referral = models.ForeignKey(
        "referrals.Referral", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    title = models.CharField(max_length=300)
    decision = models.CharField(max_length=10, choices=ItemDecision.choices, blank=True)
    exemption = models.CharField(max_length=12, choices=Exemption.choices, blank=True)
    # The labels of the fields that are about someone else, and names of other
    # people to hide wherever they appear in the record's text.
    third_party_fields = models.JSONField(default=list, blank=True)
    third_party_names = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    reviewed_at = models.DateTimeField(null=True, blank=True)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["sar", "source_key", "source_id"],
                name="rights_sar_item_once_per_record",
            ),
            models.CheckConstraint(
                name="rights_sar_item_withheld_names_exemption",
                condition=~models.Q(decision="withhold") | ~models.Q(exemption=""),
            ),
        ]

    def __str__(self):
        return f"{self.sar.reference}: {self.title}"

    @property
    def is_reviewed(self) -> bool:
        return bool(self.decision) and self.reviewed_at is not None

    @property
    def error_anchor(self) -> str:
        return f"item-{self.pk}"

    @property
    def names_to_redact(self) -> list[str]:
        return [n.strip() for n in self.third_party_names.splitlines() if n.strip()]


# Nothing about the request or the person in the names: the row says that.
# One folder per kind, so the storage sweeper checks each against its field.
def bundle_pdf_path(instance, filename):
    return f"sar-bundles-pdf/{uuid.uuid4().hex}"


def bundle_json_path(instance, filename):
    return f"sar-bundles-json/{uuid.uuid4().hex}"


class DisclosureBundle(models.Model):
    """One version of a request's disclosure: the PDF and the JSON of the same
    content, with the SHA-256 of each and what was decided on each item."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sar = models.ForeignKey(
        SubjectAccessRequest, on_delete=models.CASCADE, related_name="bundles"
    )
    version = models.PositiveSmallIntegerField()
    pdf = models.FileField(upload_to=bundle_pdf_path, max_length=200, blank=True)
    pdf_sha256 = models.CharField(max_length=64)
    pdf_size = models.PositiveIntegerField()
    json = models.FileField(upload_to=bundle_json_path, max_length=200, blank=True)
    json_sha256 = models.CharField(max_length=64)
    json_size = models.PositiveIntegerField()
    # [{"item": 3, "source": "referral", "record": 12, "decision": "disclose",
    #   "exemption": "", "third_party_fields": 2}, ...]: no content.
    items = models.JSONField(default=list)
    built_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT,
                                 related_name="+")  # fmt: skip
    built_at = models.DateTimeField(default=timezone.now)
    seconds = models.FloatField(default=0)
    disclosed_at = models.DateTimeField(null=True, blank=True)
    # Files of older versions are deleted when the request closes; the row,
    # its hashes and its decisions stay as the record of what was done.
    files_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sar", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["sar", "version"], name="rights_bundle_version_unique"
            )
        ]

    def __str__(self):
        return f"{self.sar.reference} bundle v{self.version}"


class RequestKind(models.TextChoices):
    OBJECTION = "objection", "Objection to processing (Article 21)"
    ERASURE = "erasure", "Erasure (Article 17)"


class RequestDecision(models.TextChoices):
    UPHELD = "upheld", "Upheld"
    REFUSED = "refused", "Refused"


class RightsRequest(models.Model):
    """An objection or an erasure request: who asked, about which cases, on
    what grounds, and what was decided. Case references are kept as text, so
    the record outlives a case the decision destroys."""

    wagtail_reference_index_ignore = True

    kind = models.CharField(max_length=10, choices=RequestKind.choices)
    requester_name = models.CharField(max_length=200)
    case_references = models.JSONField(default=list)
    received_on = models.DateField()
    grounds = models.TextField()
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT,
                                    related_name="+")  # fmt: skip
    recorded_at = models.DateTimeField(default=timezone.now)
    decision = models.CharField(
        max_length=10, choices=RequestDecision.choices, blank=True
    )
    decision_reasons = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    decided_at = models.DateTimeField(null=True, blank=True)
    # What an upheld erasure did to each case: {"CM-2026-0001": "disposed"}.
    outcome = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-received_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="rights_request_decision_has_reasons",
                condition=models.Q(decision="") | ~models.Q(decision_reasons=""),
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} received {self.received_on:%d %B %Y}"
