"""CMARAC meetings, their agendas, who is invited to which case, attendance,
actions that carry forward, and the per-agency meeting packs.

None of these models is in Wagtail's reference index: they link only to
people, organisations and referrals, which its usage reports do not need.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation
from referrals.models import Referral, RiskLevel


class MeetingKind(models.TextChoices):
    FULL = "full", "Full meeting"
    URGENT = "urgent", "Urgent out-of-cycle meeting"


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    PAPERS_ISSUED = "papers_issued", "Papers issued"
    HELD = "held", "Held"
    MINUTES_ISSUED = "minutes_issued", "Minutes issued"
    CANCELLED = "cancelled", "Cancelled"


@dataclass(frozen=True)
class MeetingRule:
    """When a step in a meeting's life is allowed, and the plain words that
    refuse it otherwise. ``{status}`` in ``refusal`` is the meeting's status."""

    statuses: tuple[str, ...]
    refusal: str
    once_started: bool = False


_BEFORE_HELD = (MeetingStatus.PLANNED, MeetingStatus.PAPERS_ISSUED)

# The one table of what may happen to a meeting at each stage. The pages offer
# a step only when ``Meeting.allows`` says so, and the services refuse it with
# ``Meeting.refusal``, so what is offered and what is accepted cannot disagree.
MEETING_RULES: dict[str, MeetingRule] = {
    "change_details": MeetingRule(
        _BEFORE_HELD, "A meeting that has been held cannot be changed."
    ),
    "change_agenda": MeetingRule(
        _BEFORE_HELD, "The agenda of a meeting that has been held is final."
    ),
    # Until the minutes are issued: an action's owner must be invited to its
    # case, and who is invited decides who may download the issued minutes.
    "change_invitations": MeetingRule(
        (*_BEFORE_HELD, MeetingStatus.HELD),
        "The minutes of this meeting are issued, so who is invited to its cases "
        "is final: it decides which organisations can download the minutes.",
    ),
    "issue_papers": MeetingRule(
        (MeetingStatus.PLANNED,),
        "Papers can be issued only once, before the meeting. This meeting is "
        "'{status}'.",
    ),
    "record": MeetingRule(
        (MeetingStatus.PAPERS_ISSUED, MeetingStatus.HELD),
        "This meeting is '{status}': what happened can be recorded once papers "
        "are issued, until the minutes are issued.",
    ),
    "mark_held": MeetingRule(
        (MeetingStatus.PAPERS_ISSUED,),
        "Only a meeting whose papers are issued can be marked as held. This "
        "meeting is '{status}'.",
        once_started=True,
    ),
    "cancel": MeetingRule(
        _BEFORE_HELD,
        "Only a meeting that has not been held can be cancelled. This meeting "
        "is '{status}'.",
    ),
    # Invited people say whether they will come until the meeting is held.
    "reply": MeetingRule(
        _BEFORE_HELD,
        "Replies close once the meeting is held. This meeting is '{status}'.",
    ),
    # The statement covers the pack and the minutes, so it can be confirmed
    # until the record is destroyed.
    "confirm_confidentiality": MeetingRule(
        (*_BEFORE_HELD, MeetingStatus.HELD, MeetingStatus.MINUTES_ISSUED),
        "This meeting is '{status}': there are no papers to confirm for.",
    ),
    "issue_minutes": MeetingRule(
        (MeetingStatus.HELD,),
        "Minutes can be issued once the meeting is marked as held, and only "
        "once. This meeting is '{status}'.",
    ),
}


class Meeting(models.Model):
    wagtail_reference_index_ignore = True  # see the module docstring

    kind = models.CharField(
        max_length=20, choices=MeetingKind.choices, default=MeetingKind.FULL
    )
    starts_at = models.DateTimeField()
    location = models.CharField(max_length=300, blank=True)
    online_link = models.URLField(blank=True)
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="meetings_chaired",
    )
    referral_deadline = models.DateField(
        help_text="Referrals accepted by this date can go on the agenda."
    )
    status = models.CharField(
        max_length=20, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED
    )
    papers_issued_at = models.DateTimeField(null=True, blank=True)
    minutes_issued_at = models.DateTimeField(null=True, blank=True)
    general_minutes = models.TextField(
        blank=True,
        help_text="Apologies, matters arising and anything not about a case.",
    )
    reported_to = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="urgent_meetings_reported",
        help_text="For an urgent meeting: the full meeting it is reported to.",
    )
    created_at = models.DateTimeField(db_default=Now())
    # Set when the agreement's meeting period ended and the minutes,
    # attendance and packs were destroyed (``meetings.retention``); the row
    # stays, holding nothing about people, for the cases still on its agenda.
    disposed_at = models.DateTimeField(null=True, blank=True)
    # Counts changes to what a calendar invitation shows (time and place), so
    # that everyone invited gets the update (meetings.calendar).
    calendar_version = models.PositiveIntegerField(default=0)
    # Counts changes to what the packs show since papers were issued; each pack
    # records the count its build started from, so a pack behind it is being
    # prepared again (``meetings.services.packs``) and is not offered as current.
    packs_version = models.PositiveIntegerField(default=0)
    # The ``packs_version`` the last finished build started from: behind
    # ``packs_version``, a build is queued or running.
    packs_built_version = models.PositiveIntegerField(default=0)
    # The ``packs_version`` the last failed build started from: while no later
    # build has finished, the meeting page says the packs could not be
    # prepared rather than that they are being prepared. The database default
    # lets code from before this field go on creating meetings during a deploy.
    packs_failed_version = models.PositiveIntegerField(default=0, db_default=0)

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(location__gt="") | models.Q(online_link__gt=""),
                name="meeting_has_a_place_or_link",
            )
        ]

    def __str__(self):
        local = timezone.localtime(self.starts_at)
        kind = (
            "Urgent CMARAC meeting"
            if self.kind == MeetingKind.URGENT
            else ("CMARAC meeting")
        )
        return f"{kind}, {local.day} {local:%B %Y} at {local:%H:%M}"

    def get_absolute_url(self):
        return reverse("meetings:detail", args=[self.pk])

    @property
    def day(self) -> date:
        return timezone.localtime(self.starts_at).date()

    def refusal(self, step: str, now: datetime | None = None) -> str:
        """Why ``step`` (a key of ``MEETING_RULES``) is not allowed now, in
        plain words; an empty string when it is."""
        rule = MEETING_RULES[step]
        if self.disposed_at is not None:
            return self.disposed_refusal
        if self.status not in rule.statuses:
            return rule.refusal.format(status=self.get_status_display())
        if rule.once_started and self.starts_at > (now or timezone.now()):
            local = timezone.localtime(self.starts_at)
            return (
                f"This meeting starts at {local:%H:%M} on {local.day} "
                f"{local:%B %Y}: it can be marked as held once it has started."
            )
        return ""

    @property
    def disposed_refusal(self) -> str:
        local = timezone.localtime(self.disposed_at)
        return (
            f"The record of this meeting (minutes, attendance and packs) was "
            f"destroyed on {local.day} {local:%B %Y}, when the period the "
            "information sharing agreement keeps it for had ended."
        )

    @property
    def stage_for_agencies(self) -> str:
        """The status as agency staff read it: before papers are issued,
        what they are waiting for rather than the coordinators' "Planned"."""
        if self.status == MeetingStatus.PLANNED:
            return "Papers not issued yet"
        return self.get_status_display()

    @property
    def pack_closes_at(self) -> datetime | None:
        """When invited agencies can no longer download their packs:
        ``PACK_DOWNLOAD_DAYS_AFTER_MINUTES`` days after the minutes are issued
        (None until they are). The minutes then carry what was decided."""
        if self.minutes_issued_at is None:
            return None
        return self.minutes_issued_at + timedelta(
            days=settings.PACK_DOWNLOAD_DAYS_AFTER_MINUTES
        )

    @property
    def packs_preparing(self) -> bool:
        """Whether a build of the packs is queued or running after a change."""
        return self.packs_built_version < self.packs_version

    @property
    def packs_failed(self) -> bool:
        """Whether the build for the latest change failed (and none since
        has finished): no pack is offered as current, and none is coming
        until something changes again."""
        failed = self.packs_failed_version
        return self.packs_built_version < failed == self.packs_version

    def pack_closed(self, now: datetime | None = None) -> bool:
        """Whether agencies' packs are closed now (coordinators' are not)."""
        closes = self.pack_closes_at
        return closes is not None and (now or timezone.now()) >= closes

    @property
    def allows(self) -> dict[str, bool]:
        """Each step of ``MEETING_RULES`` and whether it is allowed now, for
        pages to offer only what the services accept."""
        now = timezone.now()
        return {step: not self.refusal(step, now) for step in MEETING_RULES}


class CalendarInvitation(models.Model):
    """The last calendar email a person was sent about a meeting: its
    SEQUENCE (RFC 5545, 3.8.7.4), which rises with every email so that each
    replaces the one before, the meeting's ``calendar_version`` it showed,
    and whether it cancelled the person's place."""

    wagtail_reference_index_ignore = True

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="calendar_invitations"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    sequence = models.PositiveIntegerField(default=0)
    calendar_version = models.PositiveIntegerField(default=0)
    cancelled = models.BooleanField(default=False)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["meeting", "user"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "user"], name="meetings_one_invitation_a_person"
            )
        ]

    def __str__(self):
        state = "cancelled" if self.cancelled else "invited"
        return f"User {self.user_id} {state} to meeting {self.meeting_id}"


class AgendaItem(models.Model):
    """A referral on a meeting's agenda, who is invited to it, and what the
    meeting made of it."""

    wagtail_reference_index_ignore = True

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="agenda_items"
    )
    referral = models.ForeignKey(
        Referral, on_delete=models.PROTECT, related_name="agenda_items"
    )
    position = models.PositiveSmallIntegerField()
    slot_minutes = models.PositiveSmallIntegerField(default=15)
    invited = models.ManyToManyField(
        Organisation, related_name="agenda_invitations", blank=True
    )
    discussion = models.TextField("Discussion summary", blank=True)
    risk_after = models.CharField(
        "Risk level after discussion",
        max_length=20,
        choices=RiskLevel.choices,
        blank=True,
    )
    decisions = models.TextField(blank=True)
    next_review = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["meeting", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "referral"], name="agenda_case_once_per_meeting"
            ),
            models.UniqueConstraint(
                fields=["meeting", "position"],
                name="agenda_position_unique",
                deferrable=models.Deferrable.DEFERRED,
            ),
        ]

    def __str__(self):
        return f"{self.position}. {self.referral} at {self.meeting}"


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", "Present"
    APOLOGIES = "apologies", "Apologies"
    ABSENT = "absent", "Absent"


class Reply(models.TextChoices):
    """What an invited person said before the meeting, in the portal."""

    ATTENDING = "attending", "Attending"
    APOLOGIES = "apologies", "Apologies"


class Attendance(models.Model):
    """One person on a meeting's register.

    ``status`` is what the coordinator records at the meeting; ``reply`` and
    ``replied_at`` are what the person said beforehand, and when, in the
    portal; ``confidentiality_confirmed_at`` is when they confirmed the
    confidentiality statement, which they must do before downloading the
    meeting's pack or minutes (``meetings.services.confidentiality``).
    ``deputy_for`` is the row of the colleague who sent apologies and named
    this person to go instead.
    """

    wagtail_reference_index_ignore = True

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="attendance"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(max_length=200)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(
        max_length=20, choices=AttendanceStatus.choices, blank=True
    )
    confidentiality_confirmed_at = models.DateTimeField(null=True, blank=True)
    reply = models.CharField(max_length=20, choices=Reply.choices, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    deputy_for = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deputies",
    )

    class Meta:
        ordering = ["organisation__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "organisation", "name"], name="attendance_once"
            ),
            models.UniqueConstraint(
                fields=["meeting", "user"],
                condition=models.Q(user__isnull=False),
                name="attendance_one_row_a_person",
            ),
        ]

    def __str__(self):
        return f"{self.name}, {self.organisation}: {self.register_display}"

    @property
    def register_display(self) -> str:
        """What the register says: as recorded at the meeting, else the
        person's own reply."""
        if self.status:
            return self.get_status_display()
        if self.reply:
            return f"{self.get_reply_display()} (their reply)"
        return "Not replied"


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    NOT_POSSIBLE = "not_possible", "Not possible: circumstances changed"
    NOT_DONE = "not_done", "Not done by the agency"


class Rag(models.TextChoices):
    RED = "red", "Overdue"
    AMBER = "amber", "Due within 7 days"
    GREEN = "green", "On track"
    NONE = "", "Finished"


class Action(models.Model):
    """Something an agency agreed to do for a case at a meeting."""

    wagtail_reference_index_ignore = True

    agenda_item = models.ForeignKey(
        AgendaItem, on_delete=models.PROTECT, related_name="actions"
    )
    referral = models.ForeignKey(
        Referral, on_delete=models.PROTECT, related_name="actions"
    )
    owner = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="actions"
    )
    officer = models.CharField("Named officer", max_length=200)
    description = models.TextField()
    due = models.DateField()
    status = models.CharField(
        max_length=20, choices=ActionStatus.choices, default=ActionStatus.OPEN
    )
    update = models.TextField(blank=True, help_text="The latest progress note.")
    updated_at = models.DateTimeField(db_default=Now())
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["due", "pk"]

    def __str__(self):
        return f"{self.referral}: {self.description[:60]}"

    @property
    def is_open(self) -> bool:
        return self.status == ActionStatus.OPEN

    def rag(self, today: date | None = None) -> str:
        if not self.is_open:
            return Rag.NONE
        today = today or timezone.localdate()
        if self.due < today:
            return Rag.RED
        if (self.due - today).days <= 7:
            return Rag.AMBER
        return Rag.GREEN


def pack_path(instance, filename):
    return f"meeting-packs/{uuid.uuid4().hex}.pdf"


class MeetingPack(models.Model):
    """The PDF pack built for one invited organisation, without watermark.

    The watermark naming who downloaded it, and when, is stamped on each
    download. ``source_hash`` covers everything the pack shows, so a change to
    the agenda or a referral is seen and the pack rebuilt. ``stamp`` says where
    the build left room for the watermark in the file, so a download appends
    it without reading the pack (``meetings.services.pack_download``).
    """

    wagtail_reference_index_ignore = True

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="packs")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="+"
    )
    file = models.FileField(upload_to=pack_path, max_length=200)
    source_hash = models.CharField(max_length=64)
    pages = models.PositiveIntegerField()
    build_seconds = models.FloatField()
    built_at = models.DateTimeField(db_default=Now())
    # The meeting's ``packs_version`` the build that made or kept this pack
    # started from: behind the meeting's, the pack is out of date.
    meeting_version = models.PositiveIntegerField(default=0)
    stamp = models.JSONField(
        default=dict,
        blank=True,
        help_text="The stamp object, trailer and cross-reference facts of the "
        "stored file that a download's incremental update refers to.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "organisation"], name="one_pack_per_organisation"
            )
        ]

    def __str__(self):
        return f"Pack for {self.organisation}, {self.meeting}"

    @property
    def out_of_date(self) -> bool:
        """Built before the latest change to what the meeting's packs show."""
        return self.meeting_version < self.meeting.packs_version


class PackSection(models.Model):
    """One case's part of a meeting pack as a tagged PDF, rendered once for
    each version of what it shows (the case, redacted for an organisation,
    and its place on the agenda) and reused by every pack that shows the
    same: ``key`` is a SHA-256 of its print HTML and the template version.
    Packs are assembled from these (``meetings.pack_pdf``); a section no
    pack uses any more is deleted after each build, with the pack's record
    when a meeting's record is destroyed, and with an organisation's packs.
    """

    wagtail_reference_index_ignore = True

    key = models.CharField(max_length=64, unique=True)
    pdf = models.BinaryField()
    pages = models.PositiveIntegerField()
    created_at = models.DateTimeField(db_default=Now())
    packs = models.ManyToManyField(MeetingPack, related_name="sections", blank=True)

    def __str__(self):
        return f"Pack section {self.key[:12]} ({self.pages} pages)"


class MeetingTombstone(models.Model):
    """What one disposal destroyed of a meeting's record once the agreement's
    meeting period had passed: counts, a SHA-256 of the rows and text as they
    were, the period and version applied, and how many cases a legal hold
    kept. It names nobody and never changes (``meetings.retention``). A
    meeting with a case on hold gets another when the hold ends and the rest
    goes."""

    meeting = models.ForeignKey(
        Meeting, on_delete=models.PROTECT, related_name="tombstones"
    )
    meeting_date = models.DateField()
    disposed_at = models.DateTimeField(default=timezone.now)
    agreement_version = models.CharField(max_length=60)
    period_months = models.PositiveSmallIntegerField()
    # {"general_minutes": 1, "attendance": 9, "case_discussions": 4, ...}
    counts = models.JSONField(default=dict)
    content_hash = models.CharField(max_length=64)
    cases_held = models.PositiveSmallIntegerField(default=0)
    authorised_by = models.CharField(max_length=300)

    class Meta:
        ordering = ["-disposed_at", "-pk"]

    def __str__(self):
        return f"Record of the meeting of {self.meeting_date} destroyed"

    @property
    def counts_display(self) -> str:
        return ", ".join(
            f"{count} {kind.replace('_', ' ')}"
            for kind, count in self.counts.items()
            if count
        )
