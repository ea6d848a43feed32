"""The statistics page's figures and charts, drawn once and shown to every
board member: stored by the worker for the standard periods, worked out on
the page only when that store is missing or too old.

Working the figures out and drawing the seven charts takes about half a
second at bench scale (docs/benchmarks.md, "Board statistics"). They are
aggregate counts for a board, so figures "as at" a few minutes ago are right
for it, and the page says when they were worked out:

- the standard periods (the last 12 months, which is also the default, and
  each preset) are worked out every ``REFRESH_EVERY`` by the
  ``refresh_board_figures`` job (jobs.schedule) and stored as HTML in a
  ``FiguresSnapshot`` row; the page reads that row and nothing else;
- a stored row older than ``STALE_AFTER`` (the worker has stopped) or none at
  all (a fresh install, a new month) is worked out on the page, as before, and
  stored, so the page is never older than that and never empty; by one
  request at a time: board members who open the page meanwhile wait for it
  and are shown what it stored, rather than each working the same figures
  out (on PostgreSQL; SQLite serves one person);
- any other period (typed months) is worked out on the page and kept in the
  shared cache for a minute under the portal's freshness token, as before.

The stored HTML holds counts only, small ones already withheld
(board.suppression), so it is the same for everyone who may see the page.
The quarterly report works its figures out afresh (board.reports).
"""

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, OperationalError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from audit.chain import chain_lock
from portal.dates import long_date
from portal.freshness import remember

from . import charts, summaries
from .figures import BoardFigures, board_figures
from .models import FiguresSnapshot
from .periods import PRESETS, Period, last_twelve_months

# jobs/schedule.py runs refresh_board_figures this often (a test checks the
# two agree); the page says so.
REFRESH_EVERY = timedelta(minutes=5)
# Twice the interval: one missed run is tolerated, two are not.
STALE_AFTER = 2 * REFRESH_EVERY
# A typed period: kept for a minute, and until anything in the portal changes.
TYPED_PERIOD_SECONDS = 60


@dataclass(frozen=True)
class Statistics:
    """The page's figures and charts, drawn, and when they were worked out."""

    html: SafeString
    calculated_at: datetime
    # Kept up to date by the worker (a standard period), or worked out for
    # this request (typed months).
    refreshed: bool

    @property
    def as_at(self) -> str:
        """ "19:05 on 7 December 2026", local time (GOV.UK: 24-hour clock
        when the time matters to the minute, then the date)."""
        local = timezone.localtime(self.calculated_at)
        return f"{local:%H:%M} on {long_date(local)}"

    @property
    def refresh_minutes(self) -> int:
        return int(REFRESH_EVERY.total_seconds() // 60)


def standard_periods() -> list[Period]:
    """The default period and each preset, each once (the default is a
    preset too)."""
    periods = [last_twelve_months(), *(make() for _, make in PRESETS.values())]
    return list(dict.fromkeys(periods))


def chart_sections(figures: BoardFigures) -> list[dict]:
    """Each chart with its summary sentence, its table and its note."""
    specs = [
        (figures.by_month, "referrals-by-month", summaries.month_trend(
            figures.by_month, "referrals"), False),
        (figures.by_agency, "referrals-by-agency", summaries.largest(
            figures.by_agency, "referrals"), True),
        (figures.by_asb_type, "referrals-by-type", summaries.largest(
            figures.by_asb_type, "referrals"), True),
        (figures.by_risk, "referrals-by-risk", summaries.largest(
            figures.by_risk, "referrals"), True),
        (figures.outcomes, "outcomes", summaries.largest(
            figures.outcomes, "referrals"), True),
        (figures.repeats, "repeats", summaries.largest(
            figures.repeats, "referrals"), True),
        (figures.sharing, "sharing-by-month", summaries.month_trend(
            figures.sharing, "shares sent"), False),
    ]  # fmt: skip
    return [
        {
            "chart": charts.bar_chart(
                table, chart_id=chart_id, summary=summary, horizontal=horizontal
            ),
            "table": table,
            "note": charts.withheld_note(table),
        }
        for table, chart_id, summary, horizontal in specs
    ]


def statistics_draw(period: Period, *, refreshed: bool = False) -> Statistics:
    """Work the figures out now and draw them (no request: nothing in the
    HTML depends on who asked)."""
    # As at the start: a change made while the queries run may or may not
    # be counted, one made before this moment is.
    calculated_at = timezone.now()
    figures = board_figures(period)
    html = render_to_string(
        "board/includes/statistics.html",
        {"figures": figures, "sections": chart_sections(figures)},
    )
    return Statistics(
        html=mark_safe(html),  # noqa: S308 - our own template, counts only
        calculated_at=calculated_at,
        refreshed=refreshed,
    )


def snapshot_store(*, period: Period, statistics: Statistics) -> None:
    """Keep ``statistics`` as the period's snapshot, unless a newer one is
    stored already (two workers, or a page and the worker, at once)."""
    kept = FiguresSnapshot.objects.filter(
        first_month=period.first,
        last_month=period.last,
        calculated_at__lt=statistics.calculated_at,
    ).update(html=statistics.html, calculated_at=statistics.calculated_at)
    if kept:
        return
    try:
        with transaction.atomic():
            FiguresSnapshot.objects.create(
                first_month=period.first,
                last_month=period.last,
                html=statistics.html,
                calculated_at=statistics.calculated_at,
            )
    except IntegrityError:
        pass  # a snapshot as new or newer is stored: keep it


def snapshots_refresh() -> list[Period]:
    """Work out and store every standard period's figures (the scheduled
    job); returns the periods. Snapshots of periods no longer standard (last
    month's "last 12 months") are deleted."""
    periods = standard_periods()
    for period in periods:
        snapshot_store(
            period=period, statistics=statistics_draw(period, refreshed=True)
        )
    current = {(period.first, period.last) for period in periods}
    for snapshot in FiguresSnapshot.objects.only("first_month", "last_month"):
        if (snapshot.first_month, snapshot.last_month) not in current:
            snapshot.delete()
    return periods


def period_statistics(period: Period) -> Statistics:
    """What the page shows for ``period``: a standard period's stored
    snapshot if it is recent enough (one query), or worked out now."""
    if period not in standard_periods():
        return remember(
            ("board", period.first, period.last),
            lambda: statistics_draw(period),
            TYPED_PERIOD_SECONDS,
        )
    stored = _recent_snapshot(period)
    if stored is not None:
        return stored
    # None yet, or the worker has not run for two intervals: work it out
    # here and store it for the next person, one request at a time.
    try:
        with transaction.atomic():
            chain_lock(_drawing_lock_key(period))
            # Whoever held the lock before us has just stored it.
            stored = _recent_snapshot(period)
            if stored is not None:
                return stored
            statistics = statistics_draw(period, refreshed=True)
            snapshot_store(period=period, statistics=statistics)
            return statistics
    except OperationalError:
        # Waited longer than the database's lock limit (the drawing request
        # is slow): work them out here after all, rather than fail the page.
        return statistics_draw(period, refreshed=True)


def _recent_snapshot(period: Period) -> Statistics | None:
    snapshot = FiguresSnapshot.objects.filter(
        first_month=period.first,
        last_month=period.last,
        calculated_at__gte=timezone.now() - STALE_AFTER,
    ).first()
    if snapshot is None:
        return None
    return Statistics(
        # Drawn by statistics_draw from our own template and stored by it.
        html=mark_safe(snapshot.html),  # noqa: S308
        calculated_at=snapshot.calculated_at,
        refreshed=True,
    )


def _drawing_lock_key(period: Period) -> int:
    """The advisory lock a page holds while it works out ``period``'s figures:
    a signed 64-bit number of its own, apart from the audit chain's."""
    return -zlib.crc32(f"board figures {period.first} {period.last}".encode()) - 1
