"""Retention in meetings.

- A disposed case's content in meetings goes with it: its agenda items
  (discussion, decisions, invitations), its actions, and the packs that
  showed it. Referrals know nothing of meetings, so the disposal job
  (``referrals.retention.referral_dispose``) sends ``case_disposing`` and this
  answers, inside the disposal's transaction. Minutes are built from agenda
  items on each download, so they lose the case with its items; packs are
  deleted with their stored files and, where papers are out, rebuilt without
  it.
- A meeting's own record is kept for the ISA's meeting period, counted from
  the meeting's date as the agreement's text says ("N months after the
  meeting"): a date everyone knows in advance, the same whether or not
  minutes were ever issued, and at most a few working days before them. Then
  the daily run (``records_disposing``) destroys the general minutes, the
  attendance register, every pack (stored files too) and the minutes' words
  on each case (discussion and decisions), and the meeting's minutes and
  packs can no longer be downloaded. A case on legal hold keeps its
  discussion and decisions, and the register of who heard it, until the hold
  ends; a later run then destroys them. The cases' own rows (agenda places,
  risk after discussion, next review, invitations, actions) are case
  material: they go with the case. What remains is the meeting's row (date,
  place, chair, status) and a ``MeetingTombstone`` per disposal.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.dispatch import receiver
from django.utils import timezone

from agreements.retention import RetentionSchedule
from agreements.services import add_months
from audit.services import audit_record
from files.stored import kind_for, objects_delete
from referrals.retention import (
    Destroyed,
    RecordsDisposed,
    RetentionSection,
    content_hash,
    held_referral_ids,
    period_cutoff,
)
from referrals.signals import case_disposing, records_disposing, retention_sections

from .audit_actions import MeetingAction
from .models import (
    Action,
    AgendaItem,
    Attendance,
    Meeting,
    MeetingPack,
    MeetingTombstone,
)

# Rows the coordinators' page lists of each kind.
SHOWN = 50


@receiver(case_disposing, dispatch_uid="meetings.case_disposing")
def case_content_destroy(sender, referral, **kwargs) -> Destroyed:
    destroyed = Destroyed()
    items = AgendaItem.objects.filter(referral=referral)
    meeting_ids = set(items.values_list("meeting_id", flat=True))
    actions = Action.objects.filter(referral=referral)
    packs = list(MeetingPack.objects.filter(meeting_id__in=meeting_ids))
    destroyed.add("actions", actions)
    destroyed.add("agenda_items", items)
    destroyed.add(
        "agenda_invitations",
        AgendaItem.invited.through.objects.filter(agendaitem__referral=referral),
    )
    destroyed.add("meeting_packs", packs)
    actions.delete()
    items.delete()
    MeetingPack.objects.filter(pk__in=[pack.pk for pack in packs]).delete()
    objects_delete(kind_for(MeetingPack, "file"), [pack.file.name for pack in packs])

    from .services import pack_sections_sweep, packs_outdated_in

    # The rendered sections of the case go with the packs that used them.
    pack_sections_sweep(grace=timedelta(0))

    packs_outdated_in(Meeting.objects.filter(pk__in=meeting_ids))
    return destroyed


# A meeting's own record, on the meeting period ---------------------------------


def _with_words() -> Q:
    return ~Q(discussion="") | ~Q(decisions="")


def meetings_due(today, schedule: RetentionSchedule):
    """Meetings whose period has passed by ``today`` with something of their
    record left to destroy: never disposed of, or still holding what a legal
    hold kept when the hold has since ended."""
    cutoff = period_cutoff(today, schedule.meeting_months)
    held = held_referral_ids()
    leftover = Q(attendance__isnull=False) | Q(
        agenda_items__in=AgendaItem.objects.filter(_with_words()).exclude(
            referral__in=held
        )
    )
    return (
        Meeting.objects.filter(starts_at__lt=cutoff)
        .filter(Q(disposed_at__isnull=True) | leftover)
        .distinct()
        .order_by("starts_at", "pk")
    )


def _label(meeting: Meeting) -> str:
    return f"meeting {meeting.pk} of {meeting.day}"


def meeting_record_dispose(
    *, meeting: Meeting, schedule: RetentionSchedule, authorised_by: str
) -> MeetingTombstone | None:
    """Destroy what is left of ``meeting``'s record (see the module's
    docstring), in one transaction, and leave a tombstone; None when a legal
    hold keeps all that is left."""
    with transaction.atomic():
        locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
        held = set(
            locked.agenda_items.filter(referral__in=held_referral_ids()).values_list(
                "pk", flat=True
            )
        )
        destroyed = Destroyed()
        items = list(locked.agenda_items.filter(_with_words()).exclude(pk__in=held))
        attendance = [] if held else list(locked.attendance.all())
        packs = list(locked.packs.all())
        minutes = [locked] if locked.general_minutes else []
        # What the minutes said: the meeting's and the items' rows as they
        # were, before their words are blanked.
        destroyed.add("general_minutes", minutes)
        destroyed.add("case_discussions", items)
        destroyed.add("attendance", attendance)
        destroyed.add("meeting_packs", packs)
        if not any(destroyed.counts.values()) and locked.disposed_at is not None:
            return None
        destroyed.counts["stored_files"] = len([p for p in packs if p.file])
        AgendaItem.objects.filter(pk__in=[item.pk for item in items]).update(
            discussion="", decisions=""
        )
        Attendance.objects.filter(pk__in=[row.pk for row in attendance]).delete()
        MeetingPack.objects.filter(pk__in=[pack.pk for pack in packs]).delete()
        locked.general_minutes = ""
        locked.disposed_at = locked.disposed_at or timezone.now()
        locked.save(update_fields=["general_minutes", "disposed_at"])
        tombstone = MeetingTombstone(
            meeting=locked,
            meeting_date=locked.day,
            agreement_version=schedule.version_label,
            period_months=schedule.meeting_months,
            counts=destroyed.counts,
            content_hash=content_hash(destroyed.rows),
            cases_held=len(held),
            authorised_by=authorised_by,
        )
        tombstone.full_clean()
        tombstone.save(force_insert=True)
        audit_record(
            action=MeetingAction.RECORD_DISPOSED,
            obj=locked,
            detail={
                "meeting": locked.pk,
                "agreement_version": schedule.version_label,
                "content_hash": tombstone.content_hash,
                "kept": len(held),
            },
        )
        objects_delete(kind_for(MeetingPack, "file"), [p.file.name for p in packs])
        from .services import pack_sections_sweep

        pack_sections_sweep(grace=timedelta(0))
    return tombstone


@receiver(records_disposing, dispatch_uid="meetings.records_disposing")
def meeting_records_dispose(
    sender, schedule, today, dry_run, authorised_by, **kwargs
) -> RecordsDisposed:
    """The daily run's part for meetings (``referrals.retention``)."""
    result = RecordsDisposed(
        kind="meeting records",
        period=f"{schedule.meeting_months} months after the meeting",
    )
    held = held_referral_ids()
    for meeting in meetings_due(today, schedule):
        keeps = meeting.agenda_items.filter(referral__in=held).exists()
        if dry_run:
            tombstone = True
        else:
            tombstone = meeting_record_dispose(
                meeting=meeting, schedule=schedule, authorised_by=authorised_by
            )
        if tombstone:
            result.disposed.append(_label(meeting))
        if keeps:
            result.held.append(_label(meeting))
    return result


# The coordinators' retention page -------------------------------------------------


@receiver(retention_sections, dispatch_uid="meetings.retention_sections")
def meeting_records_section(sender, schedule, today, **kwargs):
    due, total = [], 0
    if schedule is not None:
        horizon = today + timedelta(days=settings.RETENTION_REVIEW_DAYS)
        held = held_referral_ids()
        meetings = meetings_due(horizon, schedule).annotate(
            cases=Count("agenda_items", distinct=True),
            cases_held=Count(
                "agenda_items",
                filter=Q(agenda_items__referral__in=held),
                distinct=True,
            ),
        )
        total = meetings.count()
        due = []
        for meeting in meetings[:SHOWN]:
            day = add_months(meeting.day, schedule.meeting_months)
            due.append({"meeting": meeting, "disposal_date": day,
                        "overdue": day <= today})  # fmt: skip
    return RetentionSection(
        order=20,
        template="meetings/retention_section.html",
        context={
            "schedule": schedule,
            "due": due,
            "not_shown": total - len(due),
            "tombstones": list(MeetingTombstone.objects.all()[:SHOWN]),
        },
    )
