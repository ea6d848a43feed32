"""The board's figures for a period, each computed in the database by
aggregate queries whose number does not grow with the data
(tests/board/test_figures.py checks at two sizes), then suppressed
(board.suppression) before anything sees them. No figure reads a row per
referral: the kinds are counted and the waits' medians and percentiles
picked in SQL (board.aggregates).

What each figure counts is in docs/features.md, "Board statistics". Only
counts leave this module: no reference, name or free text, so a board member
sees no case material.
"""

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, DateField, F, Min, Q, Value
from django.db.models.functions import TruncMonth
from django.utils import timezone

from agreements.models import AgreementVersion
from documents.models import Share
from meetings.models import Action, ActionStatus
from referrals.forms import ASB_TYPES
from referrals.models import Referral, RiskLevel, Status

from .aggregates import ListHolds, Picked, microseconds_between, order_statistics
from .periods import Period, month_label
from .suppression import THRESHOLD, Cell, Table, series_suppress, table_suppress

OUTCOMES = [
    ("Still open (submitted, screening or waiting for information)", (
        Status.SUBMITTED, Status.SCREENING, Status.INFORMATION_REQUESTED)),
    ("Accepted", (Status.ACCEPTED,)),
    ("Declined", (Status.DECLINED,)),
    ("Redirected to another panel", (Status.REDIRECTED,)),
    ("Closed", (Status.CLOSED,)),
    ("Withdrawn by the referring agency", (Status.WITHDRAWN,)),
]  # fmt: skip
ACTION_COLUMNS = [
    "Done by the due date",
    "Done after the due date",
    "Not done or not possible",
    "Still open",
]


@dataclass(frozen=True)
class Timing:
    """Days from submission to a step: median and 90th percentile."""

    title: str
    count: int
    median: float | None
    p90: float | None

    @property
    def shown(self) -> bool:
        return self.count >= THRESHOLD

    @property
    def count_cell(self) -> Cell:
        from .suppression import cell

        return cell(self.count)


@dataclass(frozen=True)
class Coverage:
    """One published agreement version: organisations named, and how many
    had acknowledged it by the end of the period."""

    title: str
    number: str
    published: date
    named: int
    acknowledged: int

    @property
    def percent(self) -> int:
        return round(100 * self.acknowledged / self.named) if self.named else 0


@dataclass
class BoardFigures:
    period: Period
    by_month: Table
    by_agency: Table
    by_asb_type: Table
    by_risk: Table
    outcomes: Table
    repeats: Table
    actions: Table
    sharing: Table
    timings: list[Timing] = field(default_factory=list)
    coverage: list[Coverage] = field(default_factory=list)

    @property
    def tables(self) -> list[Table]:
        return [
            self.by_month, self.by_agency, self.by_asb_type, self.by_risk,
            self.outcomes, self.repeats, self.actions, self.sharing,
        ]  # fmt: skip


def board_figures(period: Period) -> BoardFigures:
    referrals = Referral.objects.filter(
        submitted_at__gte=period.start, submitted_at__lt=period.end
    ).order_by()
    return BoardFigures(
        period=period,
        by_month=_by_month(referrals, period),
        by_agency=_by_agency(referrals),
        by_asb_type=_by_asb_type(referrals),
        by_risk=_by_risk(referrals),
        outcomes=_outcomes(referrals),
        repeats=_repeats(referrals),
        actions=_actions(period),
        sharing=_sharing(period),
        timings=_timings(referrals),
        coverage=_coverage(period),
    )


def _month_counts(queryset, field_name: str, **counts) -> dict[date, dict]:
    rows = (
        queryset.annotate(month=TruncMonth(field_name, output_field=DateField()))
        .values("month")
        .annotate(**counts)
    )
    return {row["month"]: row for row in rows}


def _by_month(referrals, period: Period) -> Table:
    rows = _month_counts(referrals, "submitted_at", n=Count("pk"))
    months = period.months
    return series_suppress(
        "Referrals by month",
        [month_label(m) for m in months],
        [rows.get(m, {}).get("n", 0) for m in months],
        column="Referrals",
    )


def _by_agency(referrals) -> Table:
    rows = list(
        referrals.values("organisation__name")
        .annotate(n=Count("pk"))
        .order_by("organisation__name")
    )
    return series_suppress(
        "Referrals by referring agency",
        [row["organisation__name"] for row in rows],
        [row["n"] for row in rows],
        column="Referrals",
    )


def _by_asb_type(referrals) -> Table:
    # A referral may name several kinds, so the kinds have no total. One
    # query counts each kind's referrals (a kind named twice counts once).
    counts = referrals.aggregate(
        **{
            f"kind_{n}": Count("pk", filter=ListHolds("asb_types", Value(value)))
            for n, (value, _) in enumerate(ASB_TYPES)
        }
    )
    return series_suppress(
        "Referrals by kind of anti-social behaviour",
        [label for _, label in ASB_TYPES],
        [counts[f"kind_{n}"] for n in range(len(ASB_TYPES))],
        column="Referrals naming it",
        total=False,
    )


def _by_risk(referrals) -> Table:
    rows = dict(
        referrals.values("risk_level")
        .annotate(n=Count("pk"))
        .values_list("risk_level", "n")
    )
    return series_suppress(
        "Referrals by risk level",
        [label for _, label in RiskLevel.choices],
        [rows.get(value, 0) for value, _ in RiskLevel.choices],
        column="Referrals",
    )


def _outcomes(referrals) -> Table:
    rows = dict(
        referrals.values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    return series_suppress(
        "Where the period's referrals stand now",
        [label for label, _ in OUTCOMES],
        [sum(rows.get(s, 0) for s in statuses) for _, statuses in OUTCOMES],
        column="Referrals",
    )


def _repeats(referrals) -> Table:
    # The flag stored at submission (referrals.repeats): one aggregate over
    # the period's rows, no rule run per referral. The first are the rest.
    counts = referrals.aggregate(
        all=Count("pk"), repeat=Count("pk", filter=Q(is_repeat=True))
    )
    counts["first"] = counts["all"] - counts["repeat"]
    return series_suppress(
        "Repeat referrals within 12 months",
        [
            "A person in it was referred in the 12 months before",
            "No one in it was referred in the 12 months before",
        ],
        [counts["repeat"], counts["first"]],
        column="Referrals",
    )


def _actions(period: Period) -> Table:
    done = Q(status=ActionStatus.DONE)
    on_time = done & Q(updated_at__date__lte=F("due"))
    rows = list(
        Action.objects.filter(due__gte=period.first, due__lt=period.end_date)
        .order_by()
        .values("owner__name")
        .annotate(
            on_time=Count("pk", filter=on_time),
            late=Count("pk", filter=done & ~on_time),
            not_done=Count(
                "pk",
                filter=Q(status__in=[ActionStatus.NOT_DONE, ActionStatus.NOT_POSSIBLE]),
            ),
            still_open=Count("pk", filter=Q(status=ActionStatus.OPEN)),
        )
        .order_by("owner__name")
    )
    return table_suppress(
        "Actions due in the period, by agency",
        [row["owner__name"] for row in rows],
        ACTION_COLUMNS,
        [[row["on_time"], row["late"], row["not_done"], row["still_open"]]
         for row in rows],
        row_totals=True,
        column_totals=True,
    )  # fmt: skip


def _sharing(period: Period) -> Table:
    rows = _month_counts(
        Share.objects.filter(
            created_at__gte=period.start, created_at__lt=period.end
        ).order_by(),
        "created_at",
        shares=Count("pk", distinct=True),
        files=Count("files"),
    )
    months = period.months
    return table_suppress(
        "Documents shared by month",
        [month_label(m) for m in months],
        ["Shares sent", "Files in them"],
        [[rows.get(m, {}).get("shares", 0), rows.get(m, {}).get("files", 0)]
         for m in months],
        column_totals=True,
    )  # fmt: skip


TIMING_TITLES = {
    "to_screening": "From submission to screening",
    "to_meeting": "From submission to the first meeting that discussed it",
}


def _timings(referrals) -> list[Timing]:
    """The median and 90th percentile of each wait, picked in the database
    (``board.aggregates``): at most three waits per figure come back, never a
    row per referral."""
    # Joined and grouped rather than a subquery per referral: PostgreSQL's
    # plan for 12,000 correlated subqueries cost enough to switch on JIT
    # compilation, which alone took seconds.
    waits = referrals.annotate(
        screened=Min("events__at", filter=Q(events__to_status=Status.SCREENING)),
        met=Min(
            "agenda_items__meeting__starts_at",
            filter=Q(agenda_items__meeting__starts_at__lte=timezone.now()),
        ),
    )
    picked = order_statistics(
        waits,
        {
            "to_screening": microseconds_between(F("screened"), F("submitted_at")),
            "to_meeting": microseconds_between(F("met"), F("submitted_at")),
        },
    )
    return [_timing(title, picked[name]) for name, title in TIMING_TITLES.items()]


def _days(microseconds: int) -> float:
    # A step recorded before the submission (a data fix) counts as no wait.
    return max(timedelta(microseconds=microseconds).total_seconds(), 0) / 86400


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value with at least
    ``share`` of the values at or below it (``board.aggregates`` picks the same
    one in SQL; this is the reference the tests compare it with)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def _timing(title: str, picked: Picked) -> Timing:
    if picked.count < THRESHOLD:
        # A median of one to four cases describes those cases: not shown.
        return Timing(title, picked.count, None, None)
    # The mean of the two middle waits (the same one twice when the count is
    # odd), as statistics.median gives it.
    median = (_days(picked.lower_middle) + _days(picked.upper_middle)) / 2
    return Timing(
        title, picked.count, round(median, 1), round(_days(picked.p90), 1)
    )  # fmt: skip


def _coverage(period: Period) -> list[Coverage]:
    versions = (
        AgreementVersion.objects.filter(published_at__lt=period.end)
        .annotate(
            acknowledged=Count(
                "acknowledgements",
                filter=Q(acknowledgements__acknowledged_at__lt=period.end),
            )
        )
        .order_by("title", "major", "minor")
    )
    return [
        Coverage(
            title=version.title,
            number=version.number,
            published=timezone.localtime(version.published_at).date(),
            named=len(version.signatories),
            acknowledged=version.acknowledged,
        )
        for version in versions
    ]
