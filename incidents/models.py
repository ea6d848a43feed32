"""Suspected data incidents: the register, its timeline, the notification
decisions, and the alerts about unusual activity that can start one.

An incident links to the cases and shared files it concerns. Those links
keep the case reference and a label when a case or share is later disposed
of (the foreign keys are set to null, never cascaded), so the register
outlives the material it talks about (docs/features.md, "Incidents").
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

# UK GDPR Article 33: notify the ICO within 72 hours of becoming aware.
# https://ico.org.uk/for-organisations/report-a-breach/personal-data-breach/
ICO_DEADLINE = timedelta(hours=72)


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class Status(models.TextChoices):
    REPORTED = "reported", "Reported"
    INVESTIGATING = "investigating", "Investigating"
    CONTAINED = "contained", "Contained"
    CLOSED = "closed", "Closed"


class Incident(models.Model):
    wagtail_reference_index_ignore = True

    year = models.PositiveIntegerField()
    number = models.PositiveIntegerField()
    reference = models.CharField(max_length=20, unique=True, editable=False)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reported_at = models.DateTimeField(default=timezone.now)
    what_happened = models.TextField(max_length=5000)
    happened_on = models.DateField(null=True, blank=True)
    discovered_at = models.DateTimeField()
    severity = models.CharField(max_length=10, choices=Severity.choices, blank=True)
    status = models.CharField(
        max_length=15, choices=Status.choices, default=Status.REPORTED
    )
    # Claimed by the reminder job, so each email goes out once.
    reminded_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-reported_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "number"], name="incident_number_unique_in_year"
            ),
            models.CheckConstraint(
                name="incident_severity_known",
                condition=models.Q(severity__in=["", *Severity.values]),
            ),
            models.CheckConstraint(
                name="incident_status_known",
                condition=models.Q(status__in=Status.values),
            ),
        ]

    def __str__(self):
        return self.reference

    def get_absolute_url(self):
        return reverse("incidents:detail", args=[self.reference])

    @property
    def ico_deadline(self):
        return self.discovered_at + ICO_DEADLINE

    def ico_decision(self):
        """The latest decision on telling the ICO, or None."""
        return self.latest_decision(DecisionKind.ICO)

    def subjects_decision(self):
        return self.latest_decision(DecisionKind.DATA_SUBJECTS)

    def latest_decision(self, kind):
        decisions = [d for d in self.decisions.all() if d.kind == kind]
        return max(decisions, key=lambda d: (d.decided_at, d.pk), default=None)

    def clock_running(self) -> bool:
        """The 72 hours count until the ICO decision is recorded."""
        return self.ico_decision() is None

    def is_overdue(self, now=None) -> bool:
        return self.clock_running() and (now or timezone.now()) > self.ico_deadline

    def time_left(self, now=None) -> timedelta:
        return self.ico_deadline - (now or timezone.now())

    def clock_text(self, now=None) -> str:
        """ "30 hours 5 minutes left", "Overdue by 2 hours 0 minutes", or
        "Decided" once the ICO decision is recorded."""
        if not self.clock_running():
            return "Decided"
        left = self.time_left(now)
        if left < timedelta(0):
            return f"Overdue by {_hours_and_minutes(-left)}"
        return f"{_hours_and_minutes(left)} left"


def _hours_and_minutes(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    hour_word = "hour" if hours == 1 else "hours"
    minute_word = "minute" if minutes == 1 else "minutes"
    return f"{hours} {hour_word} {minutes} {minute_word}"


class IncidentCase(models.Model):
    """A case the incident concerns. The reference stays if the case goes."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="cases"
    )
    referral = models.ForeignKey(
        "referrals.Referral",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reference = models.CharField(max_length=20)

    class Meta:
        ordering = ["reference"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "reference"], name="incident_case_once"
            )
        ]

    def __str__(self):
        return self.reference


class IncidentFile(models.Model):
    """Shared files the incident concerns. The label stays if the share goes."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="files"
    )
    share = models.ForeignKey(
        "documents.Share",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    label = models.CharField(max_length=300)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return self.label


class DecisionKind(models.TextChoices):
    ICO = "ico", "Telling the ICO"
    DATA_SUBJECTS = "data_subjects", "Telling the people affected"


class Decision(models.TextChoices):
    NOTIFY = "notify", "Notify"
    NOT_NOTIFY = "not_notify", "Do not notify"


class NotificationDecision(models.Model):
    """A decision on telling the ICO or the people affected, with reasons.
    A later decision of the same kind replaces an earlier one; both stay."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="decisions"
    )
    kind = models.CharField(max_length=20, choices=DecisionKind.choices)
    decision = models.CharField(max_length=20, choices=Decision.choices)
    reasons = models.TextField(max_length=5000)
    ico_reference = models.CharField(max_length=40, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["decided_at", "pk"]
        constraints = [
            models.CheckConstraint(
                name="incident_decision_known",
                condition=models.Q(kind__in=DecisionKind.values)
                & models.Q(decision__in=Decision.values),
            ),
            models.CheckConstraint(
                name="incident_decision_has_reasons",
                condition=~models.Q(reasons=""),
            ),
        ]

    def __str__(self):
        return (
            f"{self.incident}: {self.get_kind_display()}: {self.get_decision_display()}"
        )


class EventKind(models.TextChoices):
    REPORTED = "reported", "Reported"
    TRIAGED = "triaged", "Severity set"
    STATUS = "status", "Status changed"
    DECISION = "decision", "Decision recorded"
    CONTAINMENT = "containment", "Containment action"
    REMINDER = "reminder", "Reminder sent"
    OVERDUE = "overdue", "Deadline passed"


class Containment(models.TextChoices):
    RECALL_FILES = "recall_files", "Recall shared files"
    END_CASE_SHARE = "end_case_share", "End an organisation's access to a case"
    DEACTIVATE_USER = "deactivate_user", "Deactivate a user"
    RESET_SECOND_FACTOR = "reset_second_factor", "Reset a user's second factor"


class IncidentEvent(models.Model):
    """One line of the incident's timeline: everything done, by whom, when."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="timeline"
    )
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    summary = models.CharField(max_length=500)
    containment = models.CharField(
        max_length=30, choices=Containment.choices, blank=True
    )
    # What a containment action acted on (set to null if it is later removed).
    file_share = models.ForeignKey(
        "documents.Share",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    case_share = models.ForeignKey(
        "referrals.ReferralShare",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.incident} {self.at:%Y-%m-%d %H:%M} {self.summary}"


class AlertKind(models.TextChoices):
    DENIALS = "denials", "Many refused requests"
    BULK_DOWNLOADS = "bulk_downloads", "Many downloads in a short time"
    OUT_OF_HOURS = "out_of_hours", "Downloads outside working hours"
    PACK_DOWNLOADS = "pack_downloads", "Many meeting packs downloaded"


class Alert(models.Model):
    """Unusual activity found in the audit log, with its evidence."""

    wagtail_reference_index_ignore = True

    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    raised_at = models.DateTimeField(default=timezone.now)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    count = models.PositiveIntegerField()
    event_ids = models.JSONField(default=list)
    incident = models.ForeignKey(
        Incident,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts",
    )

    class Meta:
        ordering = ["-raised_at", "-pk"]

    def __str__(self):
        return f"A-{self.pk}"

    def get_absolute_url(self):
        return reverse("incidents:alert", args=[self.pk])

    @property
    def reference(self) -> str:
        return f"A-{self.pk}"


class AlertEvidence(models.Model):
    """An audit event used as evidence: never used twice for the same kind of
    alert, so a rerun, or two runs at once, raise nothing twice."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    event_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "event_id"], name="alert_evidence_used_once"
            )
        ]

    def __str__(self):
        return f"{self.alert}: event {self.event_id}"
