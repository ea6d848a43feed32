"""The board's statistics page and its quarterly reports. Board members and
coordinators only (``access.board_only``); every view and download audited."""

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from audit.services import audit_record
from files.downloads import missing_file_page, private_file_response
from files.stored import kind_for, object_present
from portal.forms import refusal_status
from portal.freshness import remember

from . import charts, summaries
from .access import board_only
from .audit_actions import BoardAction
from .figures import board_figures
from .forms import PeriodForm
from .models import BoardReport
from .periods import PRESETS, last_quarter, last_twelve_months


def _period_and_form(request):
    """The period asked for (a preset, typed months, or the last 12 months)
    and the form to show; the form is bound only when months were typed."""
    preset = PRESETS.get(request.GET.get("preset", ""))
    if preset is not None:
        period = preset[1]()
        return period, PeriodForm(initial={"start": period.first, "end": period.last})
    if any(key.startswith(("start", "end")) for key in request.GET):
        form = PeriodForm(request.GET)
        if form.is_valid():
            return form.period, form
        return None, form
    period = last_twelve_months()
    return period, PeriodForm(initial={"start": period.first, "end": period.last})


def _charts(figures) -> list[dict]:
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


# The figures and charts hold no personal data (small numbers are withheld)
# and are the same for everyone allowed to see them: built once a minute at
# most, and again as soon as anything in the portal changes (docs/caching.md).
FIGURES_SECONDS = 60


def _figures_and_charts(period):
    figures = board_figures(period)
    return figures, _charts(figures)


@board_only
def index(request):
    period, form = _period_and_form(request)
    context = {"form": form, "presets": PRESETS, "period": period}
    if period is not None:
        figures, sections = remember(
            ("board", period.first, period.last),
            lambda: _figures_and_charts(period),
            FIGURES_SECONDS,
        )
        context.update(figures=figures, sections=sections)
        audit_record(
            action=BoardAction.STATISTICS_VIEWED,
            request=request,
            detail={"from": f"{period.first:%Y-%m}", "to": f"{period.last:%Y-%m}"},
        )
    return render(request, "board/index.html", context, status=refusal_status(form))


@board_only
def reports(request):
    return render(
        request,
        "board/reports.html",
        {"reports": BoardReport.objects.all(), "quarter": last_quarter()},
    )


@board_only
@require_POST
def report_request(request):
    """Ask the worker to build the last quarter's report now."""
    from .tasks import build_board_report

    period = last_quarter()
    audit_record(
        action=BoardAction.REPORT_REQUESTED,
        request=request,
        detail={"from": f"{period.first:%Y-%m}", "to": f"{period.last:%Y-%m}"},
    )
    transaction.on_commit(
        lambda: build_board_report.enqueue(
            period.first.isoformat(), period.last.isoformat(), request.user.pk
        )
    )
    messages.success(
        request,
        f"The report for {period.label} is being built. Refresh this page in a "
        "minute to download it.",
    )
    return redirect("board:reports")


@board_only
def report_download(request, public_id):
    report = BoardReport.objects.filter(public_id=public_id).first()
    if report is None:
        raise Http404("No report found")
    if not object_present(kind_for(BoardReport, "file"), report, check_hash=False):
        return missing_file_page(
            request, obj=report, name=report.download_name,
            action=BoardAction.REPORT_DOWNLOADED, back_url="/board/reports/",
        )  # fmt: skip
    audit_record(
        action=BoardAction.REPORT_DOWNLOADED,
        request=request,
        obj=report,
        detail={"format": report.format, "bytes": report.size},
    )
    return private_file_response(
        file=report.file,
        name=report.download_name,
        content_type=report.content_type,
        size=report.size,
    )
