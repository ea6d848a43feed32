"""Invited people reply for themselves: attending, or apologies with an
optional deputy from their own organisation, and the confidentiality
statement, which each person confirms once per meeting before downloading
its pack or minutes.

Coordinators are not exempt: they read the same papers, so they confirm the
statement too (docs/features.md, "Attendees confirm for themselves").
"""

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Organisation, Role, User
from agreements.selectors import organisations_in_good_standing
from audit.models import Outcome
from audit.services import audit_record

from ..audit_actions import MeetingAction
from ..models import Attendance, Meeting, Reply
from ._common import MeetingRefused, _locked_meeting

# Our own words, shown on the page where each person confirms it.
CONFIDENTIALITY_STATEMENT = (
    "I will keep the papers and minutes of this meeting secure. I will share "
    "what they say only as the Community Safety Partnership Information "
    "Sharing Agreement allows, with people who need it to protect the people "
    "discussed. I will destroy any printed copy after the meeting, and any "
    "saved copy once I no longer need it."
)


class ConfidentialityNotConfirmed(MeetingRefused):
    """The person has not confirmed the confidentiality statement for this
    meeting; ``reason`` is the code the audit log records."""

    reason = "confidentiality_not_confirmed"


def _display_name(user: User) -> str:
    return " ".join((user.get_full_name() or user.get_username()).split())


def attendance_of(meeting: Meeting, user: User) -> Attendance | None:
    """The person's own row on the meeting's register, if any."""
    if not getattr(user, "pk", None):
        return None
    # One row at most (a unique pair): no need to join organisations to
    # order by the register's order.
    return (
        Attendance.objects.filter(meeting=meeting, user=user)
        .select_related("deputy_for")
        .order_by("pk")
        .first()
    )


def confirmations(meeting: Meeting, user: User) -> QuerySet[Attendance]:
    """The person's confirmation of the statement for the meeting, if any:
    for ``confidentiality_confirmed``, and for a query that asks it together
    with what it guards (``packs.pack_download``)."""
    return Attendance.objects.filter(
        meeting=meeting, user=user, confidentiality_confirmed_at__isnull=False
    )


def confidentiality_confirmed(meeting: Meeting, user: User) -> bool:
    return confirmations(meeting, user).exists()


def invited_as_person(meeting: Meeting, user: User) -> bool:
    """Whether ``user`` holds a place at the meeting: a coordinator, the
    chair, caseworkers of an organisation invited to a case, and anyone named
    as a deputy. Only what holds now: a reply sent while their organisation
    was invited keeps no place once it is taken off the agenda (the same
    rule as ``meetings.selectors.meetings_invited_to``)."""
    if not user.is_active or user.organisation_id is None:
        return False
    if user.has_role(Role.COORDINATOR) or user.pk == meeting.chair_id:
        return True
    # Their organisation is one ``packs.invited_organisations`` names (good
    # standing as the shared cache has it, as for the ISA decision), or they
    # are a deputy.
    if (
        user.has_role(Role.REFERRER)
        and user.organisation_id in organisations_in_good_standing(shared=True)
        and meeting.agenda_items.filter(invited=user.organisation_id).exists()
    ):
        return True
    return Attendance.objects.filter(
        meeting=meeting, user=user, deputy_for__isnull=False
    ).exists()


def _own_row(meeting: Meeting, user: User) -> Attendance:
    """The person's row, locked: theirs, or one the coordinator recorded for
    their organisation under their name (linked to them now), or a new one."""
    rows = Attendance.objects.select_for_update()
    name = _display_name(user)
    row = (
        rows.filter(meeting=meeting, user=user).first()
        or rows.filter(
            meeting=meeting,
            organisation_id=user.organisation_id,
            name__iexact=name,
            user__isnull=True,
        ).first()
    )
    if row is None:
        row = Attendance(
            meeting=meeting, organisation_id=user.organisation_id, name=name
        )
    row.user = user
    return row


def deputies_available(meeting: Meeting, user: User):
    """Colleagues ``user`` may name as a deputy: active caseworkers of their
    own organisation, not themselves."""
    if user.organisation_id is None:
        return User.objects.none()
    return (
        User.objects.filter(
            organisation_id=user.organisation_id,
            is_active=True,
            groups__name__in=[Role.REFERRER.value, Role.COORDINATOR.value],
        )
        .exclude(pk=user.pk)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


@transaction.atomic
def attendance_reply(
    *, meeting: Meeting, user: User, reply: str, deputy: User | None = None,
    request: HttpRequest | None = None,
) -> Attendance:  # fmt: skip
    """``user`` says they will attend, or sends apologies, optionally naming a
    deputy from their own organisation, who is then invited as a person.

    Only ever for oneself: nobody replies for someone else, and a deputy must
    be a colleague (``deputies_available``). Saving the same reply again
    changes nothing, so a double submission records one reply.
    """
    meeting = _locked_meeting(meeting, "reply")
    if not invited_as_person(meeting, user):
        raise MeetingRefused("You are not invited to this meeting.")
    if reply not in Reply.values:
        raise MeetingRefused("Select whether you will attend")
    if deputy is not None:
        if reply != Reply.APOLOGIES:
            raise MeetingRefused("Name a deputy only when you send apologies")
        if not deputies_available(meeting, user).filter(pk=deputy.pk).exists():
            raise MeetingRefused(
                "Choose a deputy from your own organisation from the list"
            )
    row = _own_row(meeting, user)
    current = row.deputies.filter(user__isnull=False).first() if row.pk else None
    current_deputy = current.user_id if current else None
    wanted_deputy = deputy.pk if deputy else None
    if row.pk and row.reply == reply and current_deputy == wanted_deputy:
        return row  # the same reply again
    row.reply = reply
    row.replied_at = timezone.now()
    row.full_clean()
    row.save()
    if current is not None and current_deputy != wanted_deputy:
        # No longer this person's deputy; they keep a place only as
        # themselves, if their organisation is invited.
        Attendance.objects.filter(pk=current.pk).update(deputy_for=None)
    if deputy is not None and current_deputy != wanted_deputy:
        _deputy_invite(meeting, row, deputy)
    audit_record(
        action=MeetingAction.ATTENDANCE_REPLIED,
        request=request,
        actor=user,
        obj=row,
        detail={"meeting": meeting.pk, "status": reply,
                "deputy_named": deputy is not None},
    )  # fmt: skip
    return row


def _deputy_invite(meeting: Meeting, row: Attendance, deputy: User) -> None:
    """Put the deputy on the register as a person, linked to the apologies,
    and send them the calendar invitation the meeting's invitees get."""
    deputy_row = (
        Attendance.objects.select_for_update()
        .filter(meeting=meeting, user=deputy)
        .first()
    ) or Attendance(
        meeting=meeting,
        organisation_id=deputy.organisation_id,
        name=_display_name(deputy),
        user=deputy,
    )
    deputy_row.deputy_for = row
    deputy_row.full_clean()
    deputy_row.save()
    from .agenda import calendars_sync  # agenda imports packs, which import us

    calendars_sync(meeting)


@transaction.atomic
def confidentiality_confirm(
    *, meeting: Meeting, user: User, request: HttpRequest | None = None
) -> Attendance:
    """``user`` confirms the confidentiality statement for this meeting. The
    time is kept from the first confirmation: it is evidence of when they
    agreed, so confirming again changes nothing."""
    meeting = _locked_meeting(meeting, "confirm_confidentiality")
    if not invited_as_person(meeting, user):
        raise MeetingRefused("You are not invited to this meeting.")
    row = _own_row(meeting, user)
    if row.confidentiality_confirmed_at is not None and row.pk:
        return row
    row.confidentiality_confirmed_at = timezone.now()
    row.full_clean()
    row.save()
    audit_record(
        action=MeetingAction.CONFIDENTIALITY_CONFIRMED,
        request=request,
        actor=user,
        obj=row,
        detail={"meeting": meeting.pk},
    )
    return row


def confidentiality_gate(
    *, meeting: Meeting, organisation: Organisation, user: User, refused_action: str,
    request: HttpRequest | None = None, confirmed: bool | None = None,
) -> None:  # fmt: skip
    """Refuse (audited) a download of the meeting's papers by someone who has
    not confirmed the confidentiality statement for it. Deny by default: no
    row, or a row without the time, is a refusal.

    ``confirmed``: the answer of ``Exists(confirmations(meeting, user))``
    read just now in the caller's own query; None asks the database here."""
    if confirmed is None:
        confirmed = confidentiality_confirmed(meeting, user)
    if confirmed:
        return
    audit_record(
        action=refused_action,
        request=request,
        actor=user,
        obj=meeting,
        outcome=Outcome.DENIED,
        detail={"meeting": meeting.pk, "organisation": organisation.pk,
                "reason": ConfidentialityNotConfirmed.reason},
    )  # fmt: skip
    raise ConfidentialityNotConfirmed(
        "Confirm the confidentiality statement for this meeting before you "
        "download its papers."
    )


def replies_of(meeting: Meeting) -> list[Attendance]:
    """Everyone on the register with what they said, for the coordinator."""
    return list(
        meeting.attendance.filter(
            Q(user__isnull=False) | Q(reply__gt="") | Q(status__gt="")
        ).select_related("organisation", "deputy_for")
    )
