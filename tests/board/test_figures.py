"""Each board figure against numbers worked out by hand on a crafted quarter
(tests/board/crafted.py), first with suppression off to see the counting,
then as the board sees them; and the query count at two sizes."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements.retention import RetentionSchedule
from board import suppression
from board.figures import board_figures, percentile
from board.periods import Period, last_twelve_months
from board.suppression import FEWER_THAN, WITHHELD
from referrals.models import DisposalReason, Referral
from referrals.retention import referral_dispose
from tests.factories.agreements import acknowledge, agreement_tree
from tests.shared_setup import read_again, rolled_back_after_module

from .crafted import at, organisations_and_people, quarter_dataset, referral

pytestmark = pytest.mark.django_db

QUARTER = Period(date(2026, 1, 1), date(2026, 3, 1))


def _column(table, index=0):
    return [c.text for c in table.column(index)]


def _series(table):
    return dict(zip(table.row_labels, _column(table), strict=True))


@pytest.fixture(scope="module")
def _quarter(django_db_setup, django_db_blocker):
    """The crafted quarter, made once for the module (about a second and a
    half of setup each test here needed); each test's own changes, such as a
    disposal, are rolled back after it. Tests that need a portal without it
    come first in the module (TestWithoutTheQuarter)."""
    with rolled_back_after_module(django_db_blocker):
        yield quarter_dataset()


@pytest.fixture
def quarter(_quarter, db):
    """The quarter's police and housing organisations, read again."""
    return read_again(_quarter)


@pytest.fixture
def raw(monkeypatch):
    """Suppression off (every count shown), to check the counting itself."""
    monkeypatch.setattr(suppression, "THRESHOLD", 1)


class TestWithoutTheQuarter:
    def test_agreement_coverage_per_version(self):
        _, isa, organisations, _ = agreement_tree()
        acknowledge(isa.latest_version, organisations[0])
        coverage = {c.title: c for c in board_figures(last_twelve_months()).coverage}
        isa_row = coverage["CMARAC ISA"]
        assert (isa_row.number, isa_row.named, isa_row.acknowledged) == ("1.0", 3, 1)
        assert isa_row.percent == 33

    def test_nearest_rank_percentile(self):
        assert percentile([5, 1, 3, 2, 4], 0.9) == 5
        assert percentile(list(range(1, 11)), 0.9) == 9
        assert percentile([7], 0.9) == 7

    def test_a_median_of_fewer_than_five_cases_is_not_shown(self):
        police, _, from_police, *_ = organisations_and_people()
        referral(police, from_police, day=date(2026, 2, 1))
        screening, meeting = board_figures(QUARTER).timings
        assert screening.count == 0 and screening.median is None
        assert not meeting.shown


@pytest.mark.usefixtures("quarter")
class TestCounting:
    def test_referrals_by_month_agency_risk_type_and_outcome(self, raw):
        figures = board_figures(QUARTER)
        assert _series(figures.by_month) == {
            "January 2026": "6", "February 2026": "2", "March 2026": "5",
        }  # fmt: skip
        assert figures.by_month.column_totals[0].text == "13"
        assert _series(figures.by_agency) == {"City Police": "11", "Housing Trust": "2"}
        assert _series(figures.by_risk) == {
            "Standard": "5", "Medium": "2", "High": "6",
        }  # fmt: skip
        types = _series(figures.by_asb_type)
        assert types["Noise"] == "13"
        assert types["Hate incident or crime"] == "2"
        assert types["Exploitation"] == "5"
        assert types["Cuckooing (someone's home taken over)"] == "0"
        assert figures.by_asb_type.column_totals is None  # kinds overlap
        assert _column(figures.outcomes) == ["3", "6", "2", "0", "2", "0"]
        assert figures.outcomes.column_totals[0].text == "13"

    def test_repeat_referrals_match_name_and_date_of_birth_within_a_year(self, raw):
        # January's Alex (after December 2025) and March's Sam (after
        # February); not Robin (January 2024) nor the person without a date
        # of birth.
        assert _column(board_figures(QUARTER).repeats) == ["2", "11"]

    def test_repeats_are_counted_as_they_were_at_submission(self, raw):
        # Erasing December's referral about Alex leaves January's a repeat:
        # it was one when it was sent (docs/features.md, "Repeat referrals").
        december = Referral.objects.get(submitted_at__lt=at(date(2026, 1, 1)),
                                        people__name_key="alexexample")  # fmt: skip
        referral_dispose(
            referral=december, reason=DisposalReason.ERASURE,
            schedule=RetentionSchedule(0, "CSP-ISA-CMARAC v1.0", 24, 24, 24, 7),
            authorised_by="Data protection officer",
        )  # fmt: skip
        assert _column(board_figures(QUARTER).repeats) == ["2", "11"]

    def test_times_to_screening_and_first_meeting(self, raw):
        screening, meeting = board_figures(QUARTER).timings
        # 1, 2, 3, 4, 5, 10, 20 days.
        assert (screening.count, screening.median, screening.p90) == (7, 4.0, 20.0)
        # 5 to 9 January to 15 March: 69, 68, 67, 66, 65 days; the meeting
        # still to come does not count.
        assert (meeting.count, meeting.median, meeting.p90) == (5, 67.0, 69.0)

    def test_actions_per_agency(self, raw):
        actions = board_figures(QUARTER).actions
        assert actions.row_labels == ["City Police", "Housing Trust"]
        assert [[c.text for c in row] for row in actions.cells] == [
            ["5", "1", "0", "0"],
            ["0", "0", "1", "6"],
        ]
        assert [c.text for c in actions.row_totals] == ["6", "7"]
        assert actions.grand_total.text == "13"

    def test_document_sharing_by_month(self, raw):
        sharing = board_figures(QUARTER).sharing
        assert [[c.text for c in row] for row in sharing.cells] == [
            ["6", "7"], ["0", "0"], ["0", "0"],
        ]  # fmt: skip


@pytest.mark.usefixtures("quarter")
class TestAsTheBoardSeesThem:
    def test_small_counts_are_hidden_and_totals_give_nothing_away(self):
        figures = board_figures(QUARTER)
        assert _column(figures.by_month) == ["6", FEWER_THAN, WITHHELD]
        assert figures.by_month.column_totals[0].text == "13"
        assert _column(figures.repeats) == [FEWER_THAN, WITHHELD]
        actions = figures.actions
        assert actions.cells[0][1].text == FEWER_THAN
        assert actions.cells[1][2].text == FEWER_THAN
        for row in [*actions.cells, list(actions.column_totals)]:
            assert sum(not c.shown for c in row) != 1


def _queries(period) -> int:
    with CaptureQueriesContext(connection) as captured:
        board_figures(period)
    return len(captured)


def test_the_number_of_queries_does_not_grow_with_the_data(quarter):
    police, _ = quarter
    small = _queries(QUARTER)
    from_police = police.users.first()
    for n in range(40):
        referral(police, from_police, day=date(2026, 1 + n % 3, 1 + n % 27),
                 people=[(f"person{n}", date(1990, 1, 1))])  # fmt: skip
    assert _queries(QUARTER) == small
    assert small <= 12
