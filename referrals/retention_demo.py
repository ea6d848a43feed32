"""Demo retention: two cases closed about two years ago, so coordinators see
the retention pages at work.

- One closed 25 months ago: past the 24 months the agreement gives, so the
  next run of ``manage.py apply_retention`` destroys it and leaves a tombstone.
- One due for disposal in 20 days, on legal hold: it stays until the hold is
  removed.

Both go through the services a referrer and a coordinator use; then their
dates are moved back, and their references into the year they were sent, as
``referrals.demo`` does for the other cases. People, addresses and numbers are
invented in the same way.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from accounts.models import User
from agreements.services import add_months

from .demo import _fields, _items, _referrer
from .forms import SECTIONS_BY_SLUG
from .models import ReferenceCounter, Referral, Status, Tombstone
from .repeats import repeat_flags_set
from .retention import legal_hold_place
from .services import (
    draft_save,
    draft_start,
    reference_allocate,
    referral_submit,
    referral_transition,
)


@dataclass(frozen=True)
class _OldCase:
    victim: str
    phone: str
    address: str
    closed_months_ago: int
    closed_days_later: int  # days after that month boundary
    hold: str = ""  # the legal hold's reason, if any


OLD_CASES = (
    _OldCase("Rosalind Sampleworth", "020 7946 0702", "9 Example Mews", 25, 0),
    _OldCase(
        "Desmond Testington",
        "020 7946 0733",
        "14 Example Mews",
        24,
        20,
        hold=(
            "The housing association's possession claim against the person "
            "causing harm is before the county court; the panel's records may "
            "be needed as evidence."
        ),
    ),
)
REFERRER = "housing.referrer"


def _answers(case: _OldCase, on: date) -> dict:
    """A short, complete referral about a neighbour's harassment."""
    return {
        "eligibility": _fields(
            vulnerable=["victim"],
            escalating="yes",
            multi_agency_reason="Warnings from housing alone have not stopped it.",
            other_panel="none",
            urgent="no",
        ),
        "referral-type": _fields(kind="new", agency_references="HSG 2207"),
        "people": _items(
            "people",
            [
                {
                    "role": "victim",
                    "full_name": case.victim,
                    "date_of_birth": date(1958, 3, 14),
                    "gender": "Female",
                    "address": case.address,
                    "postcode": "N1 1XA",
                    "tenure": "council",
                    "phone": case.phone,
                    "contact_times": "Afternoons",
                    "leave_message": "yes",
                    "language": "English",
                    "interpreter": "no",
                    "gp": "Example Mews Surgery",
                    "fears": "The neighbour upstairs",
                    "safe_contacts": "A friend from church",
                },
            ],
        ),
        "household": _items("members", []) | _items("children", []),
        "risk": {
            **_fields(
                asb_types=["neighbour_dispute"],
                escalation="Notes pushed through the door, then shouting at night.",
                impact="Stays with a friend most weekends.",
                personal_vulnerabilities="Lives alone; long-term illness.",
                enforcement="Two warning letters.",
                risk_level="medium",
            ),
            **_items(
                "incidents",
                [
                    {
                        "date": on - timedelta(days=12),
                        "description": "Shouted at her on the stairs at night.",
                        "reference": "",
                    }
                ],
            ),
        },
        "actions": _fields(
            agencies=["local_authority"],
            actions="Warning letters to the neighbour.",
            victim_wants="To feel safe at home.",
        ),
        "consent": _fields(
            person_aware="yes",
            consent="obtained",
            article_6="public_task",
            special_conditions=["art9_substantial_public_interest"],
            section_115=True,
        ),
    }


def demo_retention_seed() -> list[str]:
    """Create the two old cases and the hold; return their references. Does
    nothing if they, or their tombstones, are there already."""
    # Only these cases are dated in earlier years; once destroyed, their
    # tombstones are.
    this_year = timezone.localdate().year
    if (
        Referral.objects.filter(year__lt=this_year).exists()
        or Tombstone.objects.filter(year__lt=this_year).exists()
    ):
        return []
    referrer = User.objects.get(username=REFERRER)
    coordinator = User.objects.get(username="coordinator")
    today = timezone.localdate()
    made = []
    for case in OLD_CASES:
        closed_on = add_months(today, -case.closed_months_ago) + timedelta(
            days=case.closed_days_later
        )
        sent_on = closed_on - timedelta(days=70)
        referral = _submit(case, referrer, sent_on)
        for to_status in (Status.SCREENING, Status.ACCEPTED, Status.CLOSED):
            referral = referral_transition(
                referral=referral,
                to_status=to_status,
                user=coordinator,
                expected_status=referral.status,
                reason="The harassment stopped after the neighbour moved away.",
                feedback="Thank you: the panel closed the case.",
            )
        referral = _backdate(referral, sent_on, closed_on)
        if case.hold:
            legal_hold_place(
                referral=referral,
                user=coordinator,
                reason=case.hold,
                review_date=today + timedelta(days=90),
            )
        made.append(referral.reference)
    return made


def _submit(case: _OldCase, referrer: User, on: date) -> Referral:
    draft = draft_start(user=referrer)
    answers = _answers(case, on)
    answers["referrer"] = _referrer(referrer, "020 7946 0214")
    for slug, raw in answers.items():
        draft_save(draft=draft, section=SECTIONS_BY_SLUG[slug], raw=raw, user=referrer)
    referral, _ = referral_submit(draft=draft, user=referrer)
    return referral


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time())).replace(
        hour=hour
    )


def _backdate(referral: Referral, sent_on: date, closed_on: date) -> Referral:
    """Move the case's dates back, and its reference into the year it was
    sent; this year's counter gives its number back, so it stays gapless."""
    events = list(referral.events.order_by("at", "pk"))
    days = [sent_on, sent_on + timedelta(days=1), sent_on + timedelta(days=8)]
    for event, day in zip(events, [*days, closed_on], strict=True):
        event.at = _at(day, 10)
        event.save(update_fields=["at"])
    ReferenceCounter.objects.filter(
        year=referral.year, last_number=referral.number
    ).update(last_number=referral.number - 1)
    number, reference = reference_allocate(year=sent_on.year)
    Referral.objects.filter(pk=referral.pk).update(
        year=sent_on.year,
        number=number,
        reference=reference,
        submitted_at=_at(sent_on, 10),
        status_changed_at=_at(closed_on, 10),
        closed_at=_at(closed_on, 10),
    )
    # Its repeat flag as if it had been sent on that day (referrals.repeats).
    repeat_flags_set(referrals=Referral.objects.filter(pk=referral.pk))
    return Referral.objects.get(pk=referral.pk)
