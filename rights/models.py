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
