"""Notices: what a person is told in the portal ("What's new") and, if they
choose, by email. A notice holds a short title with no personal data (a case
reference at most) and a link into the portal, where the rest is shown only
to those allowed to see it."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class NoticeKind(models.TextChoices):
    CASE_SHARED = "case_shared", "Cases shared with your organisation"
    FILES_WAITING = "files_waiting", "Files shared with your organisation"
    ACTION_ASSIGNED = "action_assigned", "Actions assigned to your organisation"
    PAPERS_ISSUED = "papers_issued", "Meeting papers issued"
    MEETING_INVITATION = (
        "meeting_invitation",
        "Meeting invitations and changes, with a calendar attachment",
    )
    VERSION_TO_ACKNOWLEDGE = (
        "version_to_acknowledge",
        "Agreement versions your organisation must acknowledge",
    )
    REFERRAL_WITHDRAWN = (
        "referral_withdrawn",
        "Referrals withdrawn by the referring agency",
    )
    SAR_BUNDLE = (
        "sar_bundle",
        "Subject access disclosure bundles (data protection officers)",
    )
    SECURITY = "security", "Changes to how you sign in"


# Always emailed, whatever a person chooses: a change to how they sign in
# may be someone else's doing, and a signatory must not miss an agreement
# their organisation's access depends on.
ALWAYS_EMAILED = frozenset({NoticeKind.SECURITY, NoticeKind.VERSION_TO_ACKNOWLEDGE})
CHOOSABLE = tuple(kind for kind in NoticeKind if kind not in ALWAYS_EMAILED)


class Notice(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices"
    )
    kind = models.CharField(max_length=32, choices=NoticeKind.choices)
    # Short and without personal data: a case reference at most.
    title = models.CharField(max_length=200)
    # A path in the portal ("/referrals/12/"), never another site.
    link = models.CharField(max_length=300)
    # What happened, like "share-12": a person gets one notice per event,
    # so a repeated task tells nobody twice.
    event = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "event"], name="notices_once_per_event"
            ),
            models.CheckConstraint(
                condition=Q(link__startswith="/") & ~Q(link__startswith="//"),
                name="notices_link_is_a_local_path",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} (for user {self.recipient_id})"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class EmailChoice(models.Model):
    """A person's choice of email for one kind of notice. No row means yes:
    people are emailed until they say otherwise."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=32, choices=NoticeKind.choices)
    email = models.BooleanField(default=True)

    class Meta:
        ordering = ["user", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind"], name="notices_one_choice_per_kind"
            ),
            # The always-emailed kinds cannot be turned off, even by hand.
            models.CheckConstraint(
                condition=Q(email=True)
                | ~Q(kind__in=sorted(str(k) for k in ALWAYS_EMAILED)),
                name="notices_always_emailed_stay_on",
            ),
        ]

    def __str__(self) -> str:
        state = "email" if self.email else "no email"
        return f"{self.get_kind_display()}: {state} (user {self.user_id})"
