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

from .access import board_only
from .audit_actions import BoardAction
from .forms import PeriodForm
from .models import BoardReport
from .periods import PRESETS, last_quarter, last_twelve_months
from .snapshots import period_statistics


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


@board_only
def index(request):
    period, form = _period_and_form(request)
    context = {"form": form, "presets": PRESETS, "period": period}
    if period is not None:
        # A standard period from the worker's snapshot, typed months worked
        # out now (board.snapshots); either way the page says as at when.
        context["statistics"] = period_statistics(period)
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
