"""A small crafted dataset for the board's figures, written straight to the
tables (the workflow's services are tested elsewhere) so each figure can be
worked out by hand."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from meetings.models import Action, ActionStatus, AgendaItem, Meeting
from referrals.models import EventKind, Referral, ReferralEvent, ReferralPerson, Status
from referrals.repeats import repeat_flags_set
from tests.factories import OrganisationFactory, UserFactory

_numbers = iter(range(1, 1_000_000))


def at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def referral(organisation, referrer, *, day: date, status=Status.SUBMITTED,
             risk="standard", asb=("noise",), people=(), screened_after=None,
             meeting=None):  # fmt: skip
    number = next(_numbers)
    made = Referral.objects.create(
        reference=f"CM-{day.year}-{number:05d}",
        year=day.year,
        number=number,
        organisation=organisation,
        referrer=referrer,
        status=status,
        risk_level=risk,
        asb_types=list(asb),
        answers={},
        submitted_at=at(day),
    )
    for position, (name_key, born) in enumerate(people, start=1):
        ReferralPerson.objects.create(
            referral=made, position=position, role="victim",
            full_name=name_key.title(), name_key=name_key, date_of_birth=born,
        )  # fmt: skip
    # As the submission does, so referrals must be made oldest first.
    repeat_flags_set(referrals=Referral.objects.filter(pk=made.pk))
    if screened_after is not None:
        ReferralEvent.objects.create(
            referral=made, kind=EventKind.TRANSITION, from_status=Status.SUBMITTED,
            to_status=Status.SCREENING, actor_label="Coordinator",
            at=made.submitted_at + screened_after,
        )  # fmt: skip
    if meeting is not None:
        AgendaItem.objects.create(
            meeting=meeting, referral=made,
            position=AgendaItem.objects.filter(meeting=meeting).count() + 1,
        )  # fmt: skip
    return made


def meeting_on(day: date, chair) -> Meeting:
    return Meeting.objects.create(
        starts_at=at(day),
        chair=chair,
        location="Town Hall",
        referral_deadline=day - timedelta(days=7),
    )


def action(referral_, owner, *, due: date, status=ActionStatus.OPEN, updated=None):
    item = referral_.agenda_items.first()
    return Action.objects.create(
        agenda_item=item, referral=referral_, owner=owner, officer="Officer",
        description="Visit", due=due, status=status,
        updated_at=at(updated or due),
    )  # fmt: skip


def organisations_and_people():
    police = OrganisationFactory(name="City Police")
    housing = OrganisationFactory(name="Housing Trust")
    return (
        police, housing,
        UserFactory(organisation=police, roles=["Referrers"]),
        UserFactory(organisation=housing, roles=["Referrers"]),
        UserFactory(organisation=police, roles=["Coordinators"]),
    )  # fmt: skip


def shares(organisation, sender, *, day: date, files: list[int]):
    """One share a day with the given number of files in each."""
    from documents.models import ScanStatus, Share, SharedFile, ShareTarget

    for count in files:
        share = Share.objects.create(
            target=ShareTarget.ORGANISATIONS, sender_organisation=organisation,
            sent_by=sender, created_at=at(day), expires_at=at(day + timedelta(30)),
        )  # fmt: skip
        for n in range(count):
            SharedFile.objects.create(
                share=share, display_name=f"f{n}.pdf", file=f"shared/x{n}",
                content_type="application/pdf", size=1, sha256="0" * 64,
                scan_status=ScanStatus.CLEAN,
            )  # fmt: skip


def quarter_dataset():
    """January to March 2026, worked out by hand in test_figures.py."""
    police, housing, from_police, from_housing, coordinator = organisations_and_people()
    held = meeting_on(date(2026, 3, 15), coordinator)
    ahead = meeting_on(timezone.localdate() + timedelta(days=30), coordinator)
    alex = ("alexexample", date(1970, 7, 4))
    sam = ("samsample", date(1980, 1, 1))
    robin = ("robinroe", date(1990, 2, 2))
    nodob = ("jopublic", None)
    # Outside the period: December 2025 (Alex) and January 2024 (Robin).
    referral(police, from_police, day=date(2025, 12, 1), people=[alex])
    referral(police, from_police, day=date(2024, 1, 20), people=[robin])
    # January: six from the police, high risk, accepted; five screened after
    # 1 to 5 days and discussed at the March meeting.
    january = [
        referral(
            police, from_police, day=date(2026, 1, 5 + n), status=Status.ACCEPTED,
            risk="high", asb=["noise"],
            people=[alex] if n == 0 else ([nodob] if n == 1 else []),
            screened_after=timedelta(days=n + 1) if n < 5 else None,
            meeting=held if n < 5 else None,
        )
        for n in range(6)
    ]  # fmt: skip
    # February: two from housing, medium risk, declined, screened after 10
    # and 20 days; the first names Sam.
    for n, days in enumerate([10, 20]):
        referral(
            housing, from_housing, day=date(2026, 2, 3), status=Status.DECLINED,
            risk="medium", asb=["hate", "noise"], people=[sam] if n == 0 else [],
            screened_after=timedelta(days=days),
        )  # fmt: skip
    # March: five from the police, standard risk: three open, two closed;
    # one names Sam again (a repeat), one Robin (over 12 months: not), one a
    # person without a date of birth (never matched); one is on a meeting
    # still to come.
    march_people = [[sam], [robin], [nodob], [], []]
    for n in range(5):
        referral(
            police, from_police, day=date(2026, 3, 2), risk="standard",
            status=Status.SUBMITTED if n < 3 else Status.CLOSED,
            asb=["exploitation", "noise"], people=march_people[n],
            meeting=ahead if n == 0 else None,
        )  # fmt: skip
    # Actions due in the quarter: the police did five by the due date and one
    # late; housing did not do one and has six open.
    for n in range(5):
        action(january[n], police, due=date(2026, 2, 1), status=ActionStatus.DONE,
               updated=date(2026, 1, 30))  # fmt: skip
    action(january[0], police, due=date(2026, 2, 1), status=ActionStatus.DONE,
           updated=date(2026, 2, 2))  # fmt: skip
    action(january[1], housing, due=date(2026, 3, 1), status=ActionStatus.NOT_DONE)
    for n in range(6):
        action(january[n % 5], housing, due=date(2026, 3, 31))
    # Outside the period: due in April.
    action(january[2], police, due=date(2026, 4, 1))
    # Documents: six shares in January (seven files), one in April (outside).
    shares(police, from_police, day=date(2026, 1, 20), files=[2, 1, 1, 1, 1, 1])
    shares(police, from_police, day=date(2026, 4, 20), files=[1])
    return police, housing
