"""The figures the database works out (board.aggregates) against the same
figures read row by row in Python, on crafted data chosen to catch an
off-by-one rank, an even count's median, ties, a wait recorded before the
submission, microseconds and a kind named twice. On PostgreSQL both ways of
picking (ordered-set aggregates and window functions) are compared too."""

import statistics
from collections import Counter
from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.models import F, Min, Q
from django.utils import timezone

from board import figures, suppression
from board.aggregates import Picked, microseconds_between, order_statistics, positions
from board.figures import ASB_TYPES, _days, board_figures, percentile
from board.periods import Period
from referrals.models import Referral, Status

from .crafted import meeting_on, organisations_and_people, referral

pytestmark = pytest.mark.django_db

QUARTER = Period(date(2026, 1, 1), date(2026, 3, 1))

# Waits to screening, in the order the referrals arrive: ties, a negative
# wait, microseconds, and halves that round differently by method.
SCREENING_WAITS = [
    timedelta(days=3),
    timedelta(days=1, hours=6),  # 1.25 days
    timedelta(days=3),
    timedelta(hours=-5),  # screened before it was submitted: no wait
    timedelta(days=7, microseconds=1),
    timedelta(days=2, hours=18),  # 2.75 days
    timedelta(seconds=1),
    timedelta(days=30, microseconds=999_999),
    timedelta(days=1, hours=6),
    timedelta(days=12, minutes=1),
    timedelta(days=0),
    timedelta(days=5, hours=3),
]


@pytest.fixture
def raw(monkeypatch):
    """Every count and median shown, down to one referral."""
    monkeypatch.setattr(suppression, "THRESHOLD", 1)
    monkeypatch.setattr(figures, "THRESHOLD", 1)


def _python_timings(period: Period) -> list[tuple]:
    """The figures as board.figures read them before: every referral's first
    screening and first meeting brought into Python."""
    rows = (
        Referral.objects.filter(submitted_at__gte=period.start,
                                submitted_at__lt=period.end)
        .annotate(
            screened=Min("events__at", filter=Q(events__to_status=Status.SCREENING)),
            met=Min("agenda_items__meeting__starts_at",
                    filter=Q(agenda_items__meeting__starts_at__lte=timezone.now())),
        )
        .values_list("submitted_at", "screened", "met")
    )  # fmt: skip
    waits = ([], [])
    for submitted, *steps in rows:
        for found, step in zip(waits, steps, strict=True):
            if step is not None:
                found.append(max((step - submitted).total_seconds(), 0) / 86400)
    return [
        (len(days), round(statistics.median(days), 1), round(percentile(days, 0.9), 1))
        if days else (0, None, None)
        for days in waits
    ]  # fmt: skip


def _sql_timings(period: Period) -> list[tuple]:
    return [(t.count, t.median, t.p90) for t in board_figures(period).timings]


def _crafted(count: int):
    police, housing, from_police, from_housing, coordinator = organisations_and_people()
    held = meeting_on(date(2026, 3, 20), coordinator)
    ahead = meeting_on(timezone.localdate() + timedelta(days=20), coordinator)
    for n, wait in enumerate(SCREENING_WAITS[:count]):
        referral(
            police if n % 2 else housing,
            from_police if n % 2 else from_housing,
            day=date(2026, 1 + n % 3, 1 + 2 * n),
            screened_after=wait,
            meeting=held if n % 3 else (ahead if n % 2 else None),
        )


@pytest.mark.parametrize("count", [1, 2, 5, 6, 9, 10, 11, 12])
def test_the_database_gives_the_figures_python_gave(raw, count):
    _crafted(count)
    assert _sql_timings(QUARTER) == _python_timings(QUARTER)


def test_the_crafted_waits_give_the_figures_worked_out_by_hand(raw):
    _crafted(12)
    screening, _ = board_figures(QUARTER).timings
    # Sorted, in days: 0 (the negative), 0, ~0, 1.25, 1.25, 2.75, 3, 3,
    # 5.125, ~7, ~12, ~30. Twelve: the median is (2.75 + 3) / 2 = 2.875,
    # shown 2.9; the 90th percentile is the 11th (ceil(10.8)): ~12.0.
    assert (screening.count, screening.median, screening.p90) == (12, 2.9, 12.0)


def test_both_ways_of_picking_agree_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has only the window-function way")
    _crafted(12)
    column = {"wait": microseconds_between(F("first"), F("submitted_at"))}
    for size in range(0, 13):
        some = (
            Referral.objects.filter(
                pk__in=Referral.objects.order_by("pk").values("pk")[:size]
            )
            .order_by()
            .annotate(first=Min("events__at"))
        )
        assert order_statistics(some, column, vendor="postgresql") == (
            order_statistics(some, column, vendor="sqlite")
        ), size


def test_no_referrals_give_no_figures():
    column = {"wait": microseconds_between(F("closed_at"), F("submitted_at"))}
    for nothing in (Referral.objects.none(), Referral.objects.all()):
        assert order_statistics(nothing, column) == {"wait": Picked(0)}
    assert [t.count for t in board_figures(QUARTER).timings] == [0, 0]


def test_ranks_are_the_nearest_rank_definition():
    for count in range(1, 40):
        values = list(range(1, count + 1))
        lower, upper, p90 = positions(count)
        assert (values[lower - 1] + values[upper - 1]) / 2 == statistics.median(values)
        assert values[p90 - 1] == percentile(values, 0.9)


def test_microseconds_become_days_as_timedelta_does():
    assert _days(86_400_000_000) == 1.0
    assert _days(-5) == 0


def test_each_kind_counts_a_referral_once_however_often_it_is_named(raw):
    police, _, from_police, *_ = organisations_and_people()
    kinds = [
        ["noise", "noise", "hate"],
        ["hate"],
        [],
        ["other", "cuckooing", "exploitation", "noise"],
        ["not-a-kind"],
        ["criminal_damage", "neighbour_dispute"],
    ]
    for n, named in enumerate(kinds):
        referral(police, from_police, day=date(2026, 2, 1 + n), asb=named)
    expected = Counter()
    for named in kinds:
        expected.update(set(named))
    table = board_figures(QUARTER).by_asb_type
    shown = dict(zip(table.row_labels, [c.text for c in table.column(0)], strict=True))
    assert shown == {label: str(expected[value]) for value, label in ASB_TYPES}
    assert shown["Noise"] == "2" and shown["Hate incident or crime"] == "2"
