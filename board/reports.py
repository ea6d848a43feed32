"""The quarterly board report: the figures as a PDF (portal.pdf, the one
renderer) and a CSV whose cells cannot run as formulas (audit.exports), kept
in private storage (files.stored) and audited when built and downloaded."""

import csv
import hashlib
import io
import logging

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from audit.exports import spreadsheet_safe
from audit.services import audit_record
from files.stored import kind_for, object_write, objects_abandon, objects_kept
from portal.pdf import render_pdf

from .audit_actions import BoardAction
from .charts import withheld_note
from .figures import BoardFigures, board_figures
from .models import BoardReport, ReportFormat
from .periods import Period, last_quarter
from .suppression import FEWER_THAN, THRESHOLD, WITHHELD

logger = logging.getLogger(__name__)


def report_csv(figures: BoardFigures) -> bytes:
    """One block per table: its title, header and rows as shown on the page
    (hidden counts as "fewer than 5" or "withheld"), then the timings and
    agreement coverage."""
    out = io.StringIO()
    writer = csv.writer(out)

    def row(*cells):
        writer.writerow([spreadsheet_safe(str(c)) for c in cells])

    row("CMARAC board report", figures.period.label)
    row(f"Counts from 1 to {THRESHOLD - 1} are shown as '{FEWER_THAN}'; "
        f"'{WITHHELD}' hides a count a total would otherwise give away.")  # fmt: skip
    for table in figures.tables:
        row()
        row(table.title)
        extra = ["Total"] if table.row_totals else []
        row("", *table.column_labels, *extra)
        for label, cells, total in table.rows:
            row(label, *[c.text for c in cells], *([total.text] if total else []))
        if table.column_totals:
            grand = [table.grand_total.text] if table.grand_total else []
            row("Total", *[c.text for c in table.column_totals], *grand)
    row()
    row("Days from submission", "Referrals", "Median", "90th percentile")
    for timing in figures.timings:
        if timing.shown:
            row(timing.title, timing.count, timing.median, timing.p90)
        else:
            row(timing.title, timing.count_cell.text, "not shown", "not shown")
    row()
    row("Agreement version", "Published", "Organisations named", "Acknowledged")
    for item in figures.coverage:
        row(f"{item.title} v{item.number}", item.published.isoformat(), item.named,
            item.acknowledged)  # fmt: skip
    return out.getvalue().encode("utf-8-sig")  # spreadsheet programs read the BOM


def report_pdf(figures: BoardFigures) -> bytes:
    notes = {t.title: withheld_note(t) for t in figures.tables}
    return render_pdf(
        "board/pdf/report.html",
        {"figures": figures, "notes": notes, "built_at": timezone.now()},
    )


def report_build(*, period: Period, actor=None) -> list[BoardReport]:
    """Build the period's PDF and CSV, replacing any built before."""
    figures = board_figures(period)
    built = []
    for fmt, content in (
        (ReportFormat.CSV, report_csv(figures)),
        (ReportFormat.PDF, report_pdf(figures)),
    ):
        built.append(_store(period, fmt, content, actor))
    return built


def _store(period: Period, fmt: str, content: bytes, actor) -> BoardReport:
    written = BoardReport(first_month=period.first, last_month=period.last, format=fmt)
    name = object_write(written, "file", ContentFile(content))
    try:
        with transaction.atomic():
            report = (
                BoardReport.objects.select_for_update()
                .filter(first_month=period.first, last_month=period.last, format=fmt)
                .first()
            ) or written
            old_name = report.file.name if report.pk else ""
            report.file.name = name
            report.size = len(content)
            report.sha256 = hashlib.sha256(content).hexdigest()
            report.built_at = timezone.now()
            report.full_clean()
            report.save()
            objects_kept([name])
            audit_record(
                action=BoardAction.REPORT_GENERATED, actor=actor, obj=report,
                detail={"from": f"{period.first:%Y-%m}", "to": f"{period.last:%Y-%m}",
                        "format": fmt, "bytes": len(content)},
            )  # fmt: skip
            if old_name and old_name != name:
                storage = report.file.storage
                transaction.on_commit(lambda: storage.delete(old_name))
    except Exception:
        if not objects_abandon(kind_for(BoardReport, "file"), [name]):
            raise
        report = BoardReport.objects.get(file=name)
    logger.info("Built board report %s (%s, %d bytes)", report.pk, fmt, len(content))
    return report


def quarterly_report_due(today=None) -> Period | None:
    """The last whole quarter, if its report has not been built yet."""
    period = last_quarter(today)
    built = BoardReport.objects.filter(
        first_month=period.first, last_month=period.last
    ).count()
    return None if built >= len(ReportFormat) else period
