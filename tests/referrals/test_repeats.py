"""The repeat-referral flag (referrals.repeats): set when a referral is
submitted, from the rule the case page's list of earlier referrals uses;
back-filled for existing referrals by the same code in one statement; worked
out again when a person's name or date of birth is corrected; kept when the
earlier referral is disposed of."""

import importlib
from datetime import date, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from agreements.retention import RetentionSchedule
from referrals.models import DisposalReason, Referral, ReferralPerson, name_key
from referrals.retention import referral_dispose
from referrals.selectors import earlier_referrals
from referrals.services import referral_amend
from tests.factories import UserFactory
from tests.factories.meetings import coordinator
from tests.factories.referrals import person, submitted_referral

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
BACKFILL = importlib.import_module(
    "referrals.migrations.0014_referral_is_repeat_backfill"
)


@pytest.fixture
def referrer():
    return UserFactory(roles=[Role.REFERRER])


def submitted_on(referrer, day: date, *people):
    """A referral submitted through the service on ``day`` at 10:00, naming
    ``people`` (raw form data from ``person``)."""
    moment = datetime(day.year, day.month, day.day, 10, tzinfo=LONDON)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return submitted_referral(referrer, people=list(people))


def sam(index=0, **options):
    options.setdefault("born", (2, 1, 1980))
    return person(index, name="Sam Jones", **options)


class TestAtSubmission:
    def test_a_person_referred_three_months_before_makes_it_a_repeat(self, referrer):
        first = submitted_on(referrer, date(2027, 3, 1), sam())
        again = submitted_on(referrer, date(2027, 6, 1), sam())
        assert not first.is_repeat
        assert again.is_repeat
        Referral.objects.filter(pk=again.pk).update(is_repeat=False)
        again.refresh_from_db()
        assert not again.is_repeat  # it is stored, not worked out on reading

    def test_the_name_may_be_written_another_way(self, referrer):
        submitted_on(referrer, date(2027, 3, 1), sam())
        again = submitted_on(
            referrer, date(2027, 4, 1), person(0, name="JONES, sam", born=(2, 1, 1980))
        )
        assert again.is_repeat

    def test_thirteen_months_before_is_not(self, referrer):
        submitted_on(referrer, date(2027, 2, 1), sam())
        assert not submitted_on(referrer, date(2028, 3, 1), sam()).is_repeat

    def test_another_date_of_birth_is_another_person(self, referrer):
        submitted_on(referrer, date(2027, 3, 1), sam(born=(3, 1, 1980)))
        assert not submitted_on(referrer, date(2027, 4, 1), sam()).is_repeat

    def test_a_person_without_a_date_of_birth_never_makes_a_repeat(self, referrer):
        submitted_on(referrer, date(2027, 3, 1), sam(born=None, age="46"))
        later = submitted_on(referrer, date(2027, 4, 1), sam(born=None, age="46"))
        assert not later.is_repeat
        # Nor with a date of birth given on one side only.
        assert not submitted_on(referrer, date(2027, 5, 1), sam()).is_repeat

    def test_any_person_in_it_counts_once(self, referrer):
        submitted_on(referrer, date(2027, 3, 1), person(0, name="Robin Roe"), sam(1))
        later = submitted_on(
            referrer, date(2027, 4, 1), sam(), person(1, name="Robin Roe")
        )
        assert later.is_repeat
        assert Referral.objects.filter(is_repeat=True).count() == 1


def _written(referrer, when: datetime, *people) -> Referral:
    """A referral written straight to the tables, as rows stood before the
    flag existed (its default, False)."""
    referral = submitted_referral(referrer)
    Referral.objects.filter(pk=referral.pk).update(submitted_at=when)
    ReferralPerson.objects.filter(referral=referral).delete()
    for position, (name, born) in enumerate(people, start=1):
        ReferralPerson.objects.create(
            referral=referral, position=position, role="victim", full_name=name,
            name_key=name_key(name), date_of_birth=born,
        )  # fmt: skip
    Referral.objects.filter(pk=referral.pk).update(is_repeat=False)
    return referral


class TestBackFill:
    def test_the_migration_gives_what_the_rule_gives_in_one_statement(self, referrer):
        start = timezone.make_aware(datetime(2026, 1, 10, 9, 30))
        alex = ("Alex Example", date(1970, 7, 4))
        made = {
            "alex first": _written(referrer, start, alex),
            "alex 3 months": _written(referrer, start + timedelta(days=90), alex),
            "alex 364 days on": _written(referrer, start + timedelta(days=454), alex),
            # 365 days after "alex 3 months": the window includes its start.
            "alex 365 days on": _written(referrer, start + timedelta(days=455), alex),
            "alex 13 months": _written(referrer, start + timedelta(days=1300), alex),
            "alex same day": _written(
                referrer, start + timedelta(days=1300, hours=2),
                ("EXAMPLE, alex", alex[1]),
            ),
            "twice in one": _written(
                referrer, start + timedelta(days=5), ("Jo Twice", date(1990, 1, 1)),
                ("jo twice", date(1990, 1, 1)),
            ),
            "no date of birth": _written(referrer, start, ("Nodob Person", None)),
            "no date of birth again": _written(
                referrer, start + timedelta(days=10), ("Nodob Person", None)
            ),
            "other birthday": _written(
                referrer, start + timedelta(days=20), ("Alex Example", date(1970, 7, 5))
            ),
            "nobody": _written(referrer, start + timedelta(days=30)),
        }  # fmt: skip
        with CaptureQueriesContext(connection) as queries:
            BACKFILL.backfill(apps, None)
        assert len(queries) == 1
        stored = {label: Referral.objects.get(pk=r.pk) for label, r in made.items()}
        flags = {label: referral.is_repeat for label, referral in stored.items()}
        assert {label for label, flag in flags.items() if flag} == {
            "alex 3 months", "alex 364 days on", "alex 365 days on", "alex same day",
        }  # fmt: skip
        # The case page's list of earlier referrals says the same of each.
        for label, referral in stored.items():
            assert flags[label] == bool(earlier_referrals(referral)), label


@pytest.fixture
def pair(referrer):
    """Sam referred on 1 March 2027, and again (a repeat) on 1 June."""
    first = submitted_on(referrer, date(2027, 3, 1), sam())
    again = submitted_on(referrer, date(2027, 6, 1), sam())
    return first, again


def _correct(referral, answer, value):
    return referral_amend(
        referral=referral, answer=answer, value=value, user=coordinator(),
        reason="The person phoned to correct it.",
    )  # fmt: skip


def _flag(referral) -> bool:
    return Referral.objects.get(pk=referral.pk).is_repeat


class TestAfterwards:
    def test_correcting_the_earlier_name_takes_the_later_flag_away(self, pair):
        first, again = pair
        _correct(first, "people.people.0.full_name", "Sam Jonas")
        assert not _flag(again)
        _correct(first, "people.people.0.full_name", "Sam Jones")
        assert _flag(again)

    def test_correcting_a_date_of_birth_to_match_makes_a_repeat(self, referrer):
        submitted_on(referrer, date(2027, 3, 1), sam())
        later = submitted_on(referrer, date(2027, 6, 1), sam(born=(3, 1, 1980)))
        assert not later.is_repeat
        _correct(later, "people.people.0.date_of_birth", date(1980, 1, 2))
        assert _flag(later)
        _correct(later, "people.people.0.date_of_birth", date(1980, 1, 3))
        assert not _flag(later)

    def test_other_corrections_leave_the_flag(self, pair):
        first, again = pair
        Referral.objects.filter(pk=again.pk).update(is_repeat=False)
        _correct(first, "people.people.0.role", "witness")
        _correct(again, "people.people.0.role", "witness")
        assert not _flag(again)  # not worked out again: nobody's identity changed

    def test_disposing_of_the_earlier_referral_leaves_the_later_a_repeat(self, pair):
        first, again = pair
        schedule = RetentionSchedule(0, "CSP-ISA-CMARAC v1.0", 24, 24, 24, 7)
        referral_dispose(
            referral=first, schedule=schedule, authorised_by="Data protection officer",
            reason=DisposalReason.ERASURE,
        )  # fmt: skip
        assert earlier_referrals(Referral.objects.get(pk=again.pk)) == []
        assert _flag(again)  # a repeat when it was submitted
