"""Demo meetings: one held about ten days ago with its minutes issued, and one
in about two weeks with its papers issued, built on the demo referrals.

Everything goes through the services, as a coordinator and the agencies
would: scheduling, agendas, invitations, papers, attendance, discussion,
actions and their updates, minutes. The services only schedule ahead, so the
past meeting is run as if in a month, then its dates are moved back, as
``referrals.demo`` moves its timestamps.

The held meeting is ten days ago rather than three weeks: one of its cases was
accepted eleven days ago in the demo referrals, and a case cannot be discussed
before it is accepted.

Every person and place is invented (see ``referrals.demo``).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from accounts.models import Organisation, User
from portal.calendar import working_day_on_or_after
from referrals.demo import DEMO_REFERRERS
from referrals.models import Referral, RiskLevel, Status
from referrals.services import referral_transition

from .models import (
    Action,
    ActionStatus,
    AgendaItem,
    Attendance,
    AttendanceStatus,
    Meeting,
    Reply,
)
from .services import (
    action_add,
    action_update,
    agenda_item_add,
    attendance_record,
    attendance_reply,
    case_discussion_record,
    confidentiality_confirm,
    meeting_mark_held,
    meeting_schedule,
    minutes_issue,
    minutes_save,
    papers_issue,
)

DEMO_LOCATION = "Committee Room 3, Sampleford Civic Centre"
DEMO_LINK = "https://meet.example.org/cmarac-sampleford"
PAST_DAYS_AGO = 10
UPCOMING_DAYS_AHEAD = 14


@dataclass(frozen=True)
class _DemoCase:
    agency: str  # the referring organisation's short name (its slug)
    invited: tuple[str, ...]  # besides the referring organisation
    discussion: str = ""
    risk_after: str = ""
    decisions: str = ""


# The two accepted demo referrals, discussed at the past meeting. Victim
# Support is invited to the housing case only: it is the one agency the demo
# referrals already share a case with.
PAST_CASES = (
    _DemoCase(
        agency="housing",
        invited=("victimsupport", "police", "council"),
        discussion=(
            "Housing reported two more graffiti incidents since the referral. "
            "Police have linked them to the same group of young people and "
            "have a named suspect. Victim Support has met the family twice; "
            "the children are anxious about walking to school."
        ),
        risk_after=RiskLevel.HIGH,
        decisions=(
            "Police to increase patrols on the estate at school times. Council "
            "to consider a community protection warning once the suspect is "
            "identified. Review at the next meeting."
        ),
    ),
    _DemoCase(
        agency="police",
        invited=("housing", "recovery", "safeguarding"),
        discussion=(
            "The flat is still being used by dealers. Adult social care has "
            "accepted a safeguarding enquiry. The recovery service has offered "
            "an assessment, which he has agreed to attend with his support "
            "worker. His mother, Margaret Demoford, has offered him a room "
            "until the flat is closed; housing will visit her first to check "
            "that this is safe for her."
        ),
        risk_after=RiskLevel.HIGH,
        decisions=(
            "Housing to arrange a temporary move as soon as a flat is free. "
            "Police to prepare a closure order application. Review at the next "
            "meeting."
        ),
    ),
)

# The case accepted for the upcoming meeting (now in screening).
NEW_CASE = _DemoCase(agency="recovery", invited=("housing", "mentalhealth"))


@dataclass(frozen=True)
class _DemoAction:
    case: int  # index into PAST_CASES
    owner: str
    description: str
    due_days: int  # after the past meeting
    status: str = ActionStatus.OPEN
    update: str = ""


PAST_ACTIONS = (
    _DemoAction(
        0,
        "police",
        "Add the estate to the patrol plan at 8 to 9am and 3 to 4pm.",
        due_days=3,
        status=ActionStatus.DONE,
        update="Patrols running since the day after the meeting.",
    ),
    _DemoAction(
        0,
        "council",
        "Draft a community protection warning for legal review.",
        due_days=24,
    ),
    _DemoAction(
        1,
        "housing",
        "Offer a temporary move and confirm the date with his support worker.",
        due_days=7,
        update="Two flats viewed; waiting for repairs on the second.",
    ),
    _DemoAction(
        1,
        "recovery",
        "Complete the recovery assessment and share the support plan.",
        due_days=21,
    ),
)

# Who sent apologies rather than coming, by organisation.
APOLOGIES_FROM = ("safeguarding",)

GENERAL_MINUTES = (
    "Apologies: Safeguarding Adults and Children Hub. Everyone present confirmed "
    "the confidentiality statement. Matters arising: none. The next meeting is "
    "in four weeks in the same room."
)


def demo_meetings_seed() -> int:
    """Create the demo meetings; return how many were created.

    Creates nothing if the demo coordinator chairs a meeting already (from an
    earlier run, or from trying the portal), or the demo referrals are not
    there.
    """
    coordinator = User.objects.get(username="coordinator")
    if Meeting.objects.filter(chair=coordinator).exists():
        return 0
    accepted = _case_by_agency(Status.ACCEPTED)
    if not all(case.agency in accepted for case in PAST_CASES):
        return 0
    new_case = _accepted_now(NEW_CASE, coordinator)
    _past_meeting(coordinator, [accepted[c.agency] for c in PAST_CASES])
    _upcoming_meeting(
        coordinator,
        [(case, accepted[case.agency]) for case in PAST_CASES]
        + ([(NEW_CASE, new_case)] if new_case else []),
    )
    return 2


def _case_by_agency(status: str) -> dict[str, Referral]:
    referrals = Referral.objects.filter(
        status=status, referrer__username__in=DEMO_REFERRERS
    ).select_related("organisation")
    return {referral.organisation.slug: referral for referral in referrals}


def _accepted_now(case: _DemoCase, coordinator: User) -> Referral | None:
    """Accept the demo case still in screening, as the coordinator would."""
    referral = _case_by_agency(Status.SCREENING).get(case.agency)
    if referral is None:
        return None
    referral = referral_transition(
        referral=referral,
        to_status=Status.ACCEPTED,
        user=coordinator,
        expected_status=Status.SCREENING,
    )
    # The event and the referral take "now" separately; make them agree, as
    # referrals.demo does, so the history reads in order.
    moment = referral.status_changed_at
    referral.events.filter(pk=referral.events.order_by("-at", "-pk")[0].pk).update(
        at=moment
    )
    return referral


def _at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour=hour)))


def _organisations(slugs) -> list[Organisation]:
    return list(Organisation.objects.filter(slug__in=slugs))


def _past_meeting(coordinator: User, referrals: list[Referral]) -> Meeting:
    """Run the past meeting through the services, from agenda to minutes, then
    move its dates back (services only schedule ahead and refuse past dues)."""
    today = timezone.localdate()
    # Forward to a weekday, so never before the cases were accepted.
    day = working_day_on_or_after(today - timedelta(days=PAST_DAYS_AGO))
    meeting = meeting_schedule(
        user=coordinator,
        starts_at=_at(today + timedelta(days=30)),
        chair=coordinator,
        location=DEMO_LOCATION,
        online_link=DEMO_LINK,
    )
    items = [
        agenda_item_add(
            meeting=meeting,
            referral=referral,
            invited=_organisations(case.invited),
            user=coordinator,
            slot_minutes=20,
        )
        for case, referral in zip(PAST_CASES, referrals, strict=True)
    ]
    papers_issue(meeting=meeting, user=coordinator)
    _attendance(meeting, coordinator, items)
    for case, item in zip(PAST_CASES, items, strict=True):
        case_discussion_record(
            item=item,
            discussion=case.discussion,
            risk_after=case.risk_after,
            decisions=case.decisions,
            user=coordinator,
        )
    actions = [_action(spec, items[spec.case], coordinator) for spec in PAST_ACTIONS]
    # Back to its day before it is marked held, which needs it to have started.
    starts = _at(day)
    shift = starts - meeting.starts_at
    Meeting.objects.filter(pk=meeting.pk).update(
        starts_at=starts,
        referral_deadline=day - timedelta(days=2),
        papers_issued_at=starts - timedelta(days=5),
    )
    meeting_mark_held(meeting=meeting, user=coordinator)
    minutes_save(meeting=meeting, general_minutes=GENERAL_MINUTES, user=coordinator)
    minutes_issue(meeting=meeting, user=coordinator)
    Meeting.objects.filter(pk=meeting.pk).update(
        minutes_issued_at=starts + timedelta(days=2)
    )
    Attendance.objects.filter(
        meeting=meeting, confidentiality_confirmed_at__isnull=False
    ).update(confidentiality_confirmed_at=starts)
    for item in items:
        item.refresh_from_db()
        AgendaItem.objects.filter(pk=item.pk).update(
            next_review=item.next_review + shift
        )
    for spec, action in zip(PAST_ACTIONS, actions, strict=True):
        Action.objects.filter(pk=action.pk).update(
            due=day + timedelta(days=spec.due_days),
            updated_at=starts + timedelta(days=1),
        )
    meeting.refresh_from_db()
    return meeting


def _attendance(meeting, coordinator, items) -> None:
    slugs = sorted(
        {org.slug for item in items for org in item.invited.all()}
        | {coordinator.organisation.slug}
    )
    for organisation in _organisations(slugs):
        person = (
            coordinator
            if organisation == coordinator.organisation
            else User.objects.get(username=f"{organisation.slug}.referrer")
        )
        present = organisation.slug not in APOLOGIES_FROM
        attendance_record(
            meeting=meeting,
            organisation=organisation,
            name=person.get_full_name() or person.username,
            status=AttendanceStatus.PRESENT if present else AttendanceStatus.APOLOGIES,
            confidentiality_confirmed=present,
            user=coordinator,
        )


def _action(spec: _DemoAction, item: AgendaItem, coordinator) -> Action:
    owner = Organisation.objects.get(slug=spec.owner)
    officer = User.objects.get(username=f"{spec.owner}.referrer")
    action = action_add(
        item=item,
        owner=owner,
        officer=officer.get_full_name(),
        description=spec.description,
        # A future date, as the service requires; moved back afterwards.
        due=timezone.localdate() + timedelta(days=30),
        user=coordinator,
    )
    if spec.update or spec.status != ActionStatus.OPEN:
        action = action_update(
            action=action, user=officer, status=spec.status, update=spec.update
        )
    return action


def _upcoming_meeting(coordinator: User, cases) -> Meeting:
    day = working_day_on_or_after(
        timezone.localdate() + timedelta(days=UPCOMING_DAYS_AHEAD)
    )
    meeting = meeting_schedule(
        user=coordinator,
        starts_at=_at(day),
        chair=coordinator,
        location=DEMO_LOCATION,
        online_link=DEMO_LINK,
    )
    for case, referral in cases:
        agenda_item_add(
            meeting=meeting,
            referral=referral,
            invited=_organisations(case.invited),
            user=coordinator,
            slot_minutes=20,
        )
    # Packs are built once the seed's transaction commits (the immediate task
    # backend in development).
    meeting = papers_issue(meeting=meeting, user=coordinator)
    _replies(meeting, coordinator)
    return meeting


def _replies(meeting: Meeting, coordinator: User) -> None:
    """Some invited people reply for themselves: Police and Housing will
    attend and confirm confidentiality; the council's caseworker sends
    apologies and names the coordinator, a colleague at the council, as
    deputy."""
    for slug in ("police", "housing"):
        person = User.objects.get(username=f"{slug}.referrer")
        attendance_reply(meeting=meeting, user=person, reply=Reply.ATTENDING)
        confidentiality_confirm(meeting=meeting, user=person)
    attendance_reply(
        meeting=meeting,
        user=User.objects.get(username="council.referrer"),
        reply=Reply.APOLOGIES,
        deputy=coordinator,
    )
    confidentiality_confirm(meeting=meeting, user=coordinator)
