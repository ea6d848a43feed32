"""Permission-aware reads of meetings, packs and actions.

What agency staff may see of a meeting grows with its stage, so there are two
reads, and a view picks the one it needs:

- ``meetings_invited_to``: the meeting itself (date, time, place, chair and
  their own reply), from the moment their organisation is invited to a case
  on it, or a colleague sending apologies names them as deputy: the calendar
  invitation links there and asks them to reply (``meetings.calendar``).
- ``meetings_visible_to``: the meeting's papers (which cases are on the
  agenda, packs, minutes), only once papers are issued
  (``VISIBLE_TO_AGENCIES``); a deputy then sees no case their organisation
  is not invited to, and staff download only their own organisation's pack.

Coordinators see every meeting and may download any agency's pack. An
organisation the agreement does not cover sees nothing
(``agreements.selectors.case_material_access``).
"""

from datetime import datetime

from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from accounts.models import Organisation, Role, User
from agreements.selectors import (
    case_material_access,
    organisations_in_good_standing,
)
from portal.calendar import working_days_before
from referrals.models import CaseRestriction, Referral, Status
from referrals.selectors import referrals_visible_to

from .models import (
    Action,
    ActionStatus,
    AgendaItem,
    Attendance,
    Meeting,
    MeetingKind,
    MeetingPack,
    MeetingStatus,
    Reply,
)

# Papers are out: agency staff invited see the agenda's cases, their pack and
# (once issued) their minutes.
VISIBLE_TO_AGENCIES = (
    MeetingStatus.PAPERS_ISSUED,
    MeetingStatus.HELD,
    MeetingStatus.MINUTES_ISSUED,
)
# The meeting is on: invited staff see when and where it is and reply to the
# invitation, before papers are issued too.
OPEN_TO_INVITEES = (MeetingStatus.PLANNED, *VISIBLE_TO_AGENCIES)


def _meetings_for_staff(
    user: User, statuses, meeting_id: int | None = None
) -> QuerySet[Meeting]:
    """Meetings in ``statuses`` where ``user`` holds a place: every meeting
    for a coordinator; for agency staff, those their organisation is invited
    to a case on, or where they are a named deputy. With ``meeting_id``, only
    that one (or none)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Meeting.objects.none()
    if not case_material_access(user).allowed:
        return Meeting.objects.none()
    if not user.works_on_cases:
        return Meeting.objects.none()
    meetings = Meeting.objects.select_related("chair")
    if meeting_id is not None:
        meetings = meetings.filter(pk=meeting_id)
    if user.has_role(Role.COORDINATOR):
        return meetings
    # A named deputy holds a place as a person (meetings.calendar.invitees
    # sends them the invitation), whether or not their organisation is
    # invited to a case. Only the current invitations count: an organisation
    # taken off the agenda, or a deputy no longer named, loses the meeting.
    # Two subqueries, not joins: joining both tables and taking DISTINCT
    # made the meetings list's one query take 100 ms at bench scale (6 ms now).
    invited = AgendaItem.objects.filter(invited=user.organisation_id)
    deputy = Attendance.objects.filter(user=user, deputy_for__isnull=False)
    if meeting_id is not None:
        # One meeting: look in its own agenda and register, not in every
        # invitation the organisation ever had (at bench scale the page's
        # query went from 1.8 ms to a few hundredths).
        invited = invited.filter(meeting_id=meeting_id)
        deputy = deputy.filter(meeting_id=meeting_id)
    return meetings.filter(
        Q(pk__in=invited.values("meeting_id")) | Q(pk__in=deputy.values("meeting_id")),
        status__in=statuses,
    )


def meetings_visible_to(user: User) -> QuerySet[Meeting]:
    """Meetings whose papers ``user`` may see: for agency staff, those they
    are invited to once papers are issued."""
    return _meetings_for_staff(user, VISIBLE_TO_AGENCIES)


def meetings_invited_to(user: User) -> QuerySet[Meeting]:
    """Meetings ``user`` may see the time, place and chair of, and reply to:
    for agency staff, those they are invited to, papers issued or not (not
    cancelled ones). Never their cases or papers: ``meetings_visible_to``."""
    return _meetings_for_staff(user, OPEN_TO_INVITEES)


def meeting_for(user: User, meeting_id: int) -> Meeting:
    """A meeting whose papers ``user`` may see; 404 otherwise."""
    meeting = _meetings_for_staff(user, VISIBLE_TO_AGENCIES, meeting_id).first()
    if meeting is None:
        raise Http404("No meeting found")
    return meeting


def invited_meeting_for(
    user: User, meeting_id: int, *, cancelled: bool = False
) -> Meeting:
    """A meeting ``user`` is invited to, papers issued or not; with
    ``cancelled``, also one they were invited to that is now cancelled (its
    page then says only that). 404 otherwise. Whether they may see its
    papers too is ``papers_open_to``."""
    statuses = OPEN_TO_INVITEES
    if cancelled:
        statuses = (*statuses, MeetingStatus.CANCELLED)
    meeting = _meetings_for_staff(user, statuses, meeting_id).first()
    if meeting is None:
        raise Http404("No meeting found")
    return meeting


def uninvited_meeting_for(user: User, meeting_id: int) -> Meeting:
    """A meeting ``user`` was sent a calendar invitation to and then told,
    by a calendar cancellation, that their place is gone (their organisation
    was taken off the agenda, or they are no longer a deputy). Its page then
    says only that, as the email did. 404 otherwise."""
    meeting = (
        Meeting.objects.filter(
            pk=meeting_id,
            calendar_invitations__user=user,
            calendar_invitations__cancelled=True,
        )
        .distinct()
        .first()
    )
    if meeting is None or not getattr(user, "is_active", False):
        raise Http404("No meeting found")
    return meeting


def papers_open_to(user: User, meeting: Meeting) -> bool:
    """Whether ``user``, who may see ``meeting`` (``invited_meeting_for``),
    may also see its papers: the cases on its agenda, packs and minutes."""
    return user.has_role(Role.COORDINATOR) or meeting.status in VISIBLE_TO_AGENCIES


def pack_organisation_for(
    user: User, meeting: Meeting, slug: str | None
) -> Organisation:
    """Whose pack ``user`` may download: their own, or (coordinators) any
    invited organisation's. 404 otherwise."""
    invited = (
        Organisation.objects.taking_part()
        .filter(agenda_invitations__meeting=meeting)
        .distinct()
    )
    if user.has_role(Role.COORDINATOR) and slug:
        organisation = invited.filter(slug=slug).first()
    else:
        organisation = invited.filter(pk=user.organisation_id).first()
    if organisation is None or meeting.status not in VISIBLE_TO_AGENCIES:
        raise Http404("No pack for you at this meeting")
    return organisation


def actions_of(organisation: Organisation) -> QuerySet[Action]:
    """An organisation's own actions, open ones first."""
    return (
        Action.objects.filter(owner=organisation)
        .select_related("referral", "agenda_item__meeting")
        .annotate(
            finished=Case(
                When(status=ActionStatus.OPEN, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("finished", "due", "pk")
    )


# Building a meeting (coordinators) ---------------------------------------------


def chairs_available() -> QuerySet[User]:
    """Active coordinators, who may chair a meeting."""
    return User.objects.filter(
        is_active=True, groups__name=Role.COORDINATOR.value
    ).distinct()


def full_meetings_ahead(user: User) -> QuerySet[Meeting]:
    """Full meetings still to come, which an urgent meeting may report to."""
    return (
        meetings_visible_to(user)
        .filter(kind=MeetingKind.FULL, starts_at__gte=timezone.now())
        .order_by("starts_at")
    )


def referrals_for_agenda(user: User, meeting: Meeting) -> QuerySet[Referral]:
    """Accepted referrals ``user`` sees that are not yet on ``meeting``'s agenda
    and not restricted, oldest first (they have waited longest). The list
    is only what the page offers: ``agenda_item_add`` refuses a restricted
    case whatever is posted."""
    return (
        referrals_visible_to(user)
        .filter(status=Status.ACCEPTED)
        .exclude(agenda_items__meeting=meeting)
        .exclude(pk__in=CaseRestriction.objects.in_force().values("referral_id"))
        .select_related(None)
        .select_related("organisation")
        # The list shows these three; the answers (JSON) would cost seconds.
        .only("reference", "risk_level", "organisation__name")
        .order_by("pk")
    )


def organisations_to_invite(also=()) -> QuerySet[Organisation]:
    """Parties to the ISA in force that have acknowledged it: nobody else may
    see a case (``agreements.selectors.case_material_access``). ``also`` (the
    organisations already invited) are offered again only while they still
    qualify, so saving the form drops one that no longer does. From the
    shared cache: it is what the page offers, and ``agenda_item_add`` and
    ``agenda_item_invite`` check who is invited afresh."""
    return Organisation.objects.filter(
        pk__in=organisations_in_good_standing(shared=True)
    ).order_by("name")


def agenda_item_for(user: User, meeting: Meeting, item_id: int) -> AgendaItem:
    """An item on ``meeting``'s agenda, for a coordinator; 404 otherwise."""
    if not user.has_role(Role.COORDINATOR):
        raise Http404("Only coordinators manage an agenda")
    item = (
        meeting.agenda_items.select_related("referral__organisation", "meeting")
        .filter(pk=item_id)
        .first()
    )
    if item is None:
        raise Http404("No such case on this agenda")
    return item


def packs_of(meeting: Meeting) -> QuerySet[MeetingPack]:
    return meeting.packs.select_related("organisation").order_by("organisation__name")


def pack_of(meeting: Meeting, organisation_id: int) -> MeetingPack | None:
    """The organisation's stored pack of ``meeting``, without the file's
    stamp facts (the page needs only whether it is current)."""
    return (
        meeting.packs.filter(organisation_id=organisation_id)
        .only("pk", "meeting", "organisation", "meeting_version", "built_at")
        .first()
    )


# Recording the meeting, actions and minutes ------------------------------------


def minutes_organisation_for(
    user: User, meeting: Meeting, slug: str | None
) -> Organisation:
    """Whose minutes ``user`` may download once issued: their own
    organisation's if it was invited, or (coordinators) any invited one's."""
    if meeting.status != MeetingStatus.MINUTES_ISSUED:
        raise Http404("The minutes of this meeting are not issued")
    return pack_organisation_for(user, meeting, slug)


def minutes_late(today=None) -> QuerySet[Meeting]:
    """Held meetings whose minutes are not issued within
    ``MINUTES_DUE_WORKING_DAYS`` working days of the meeting day.

    Minutes are due ``working_days_after(day, 3)``; they are late once today is
    past that, which is when the day falls before ``working_days_before(today,
    3)``.
    """
    from .services import MINUTES_DUE_WORKING_DAYS

    today = today or timezone.localdate()
    cutoff = working_days_before(today, MINUTES_DUE_WORKING_DAYS)
    starts_before = timezone.make_aware(datetime.combine(cutoff, datetime.min.time()))
    return (
        Meeting.objects.filter(
            status=MeetingStatus.HELD,
            starts_at__lt=starts_before,
            disposed_at__isnull=True,
        )
        .select_related("chair")
        .order_by("starts_at")
    )


# The coordinator's home: the meeting cycle -------------------------------------


def _count_per_meeting(queryset, field: str = "pk") -> Coalesce:
    """How many rows of ``queryset`` belong to the outer meeting, as one
    subquery (several joined counts would multiply each other's rows)."""
    counted = (
        queryset.order_by()
        .values("meeting_id" if field == "pk" else "agendaitem__meeting_id")
        .annotate(n=Count(field, distinct=True))
        .values("n")
    )
    return Coalesce(Subquery(counted), 0)


def meetings_ahead_with_papers(user: User) -> QuerySet[Meeting]:
    """Meetings still to come that ``user`` sees, soonest first, each with
    how many organisations are invited, how many packs are built, and how
    many people replied attending, sent apologies or confirmed the
    confidentiality statement. Five subqueries, whatever the rows."""
    attendance = Attendance.objects.filter(meeting=OuterRef("pk"))
    return (
        meetings_visible_to(user)
        .filter(
            starts_at__gte=timezone.now(),
            status__in=(MeetingStatus.PLANNED, MeetingStatus.PAPERS_ISSUED),
        )
        .annotate(
            organisations_invited=_count_per_meeting(
                AgendaItem.invited.through.objects.filter(
                    agendaitem__meeting=OuterRef("pk")
                ),
                "organisation_id",
            ),
            packs_built=_count_per_meeting(
                MeetingPack.objects.filter(meeting=OuterRef("pk"))
            ),
            attending=_count_per_meeting(attendance.filter(reply=Reply.ATTENDING)),
            apologies=_count_per_meeting(attendance.filter(reply=Reply.APOLOGIES)),
            confidentiality_confirmed=_count_per_meeting(
                attendance.filter(confidentiality_confirmed_at__isnull=False)
            ),
        )
        .order_by("starts_at")
    )


def actions_overdue(user: User, today) -> QuerySet[Action]:
    """Open actions past their due date, across agencies, on cases ``user``
    sees, oldest first, with their owners."""
    return (
        Action.objects.filter(
            status=ActionStatus.OPEN,
            due__lt=today,
            referral__in=referrals_visible_to(user),
        )
        .select_related("owner", "referral")
        .order_by("due", "pk")
    )


# For the person index (rights) ------------------------------------------------
#
# Every record, whoever may see it: only ``rights`` calls these, after its own
# check of the data protection officer's role.


def agenda_items_for_person_index() -> QuerySet[AgendaItem]:
    return AgendaItem.objects.select_related("meeting", "referral").order_by("pk")


def actions_for_person_index() -> QuerySet[Action]:
    return Action.objects.select_related(
        "agenda_item__meeting", "referral", "owner"
    ).order_by("pk")


def meetings_for_person_index() -> QuerySet[Meeting]:
    return Meeting.objects.order_by("pk")
