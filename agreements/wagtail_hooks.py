"""Agreement coverage in the Wagtail admin: read-only, for coordinators.

The version list shows every published version with the share of signatory
organisations that have acknowledged it; each row opens a coverage screen
that names every organisation's status and downloads as CSV.
"""

import csv

from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import slugify
from wagtail import hooks
from wagtail_modeladmin.helpers import ButtonHelper
from wagtail_modeladmin.options import modeladmin_register

from audit.exports import SafeExportIndexView, spreadsheet_safe
from audit.readonly import ReadOnlyPermissionHelper
from audit.services import audit_record
from portal.dates import long_date
from portal.modeladmin import PortalModelAdmin

from .audit_actions import AgreementAction
from .models import AgreementVersion
from .selectors import AcknowledgementState, coverage, coverage_visible_to


class CoordinatorsReadOnly(ReadOnlyPermissionHelper):
    """Versions are born by publishing a page and are frozen (database triggers
    refuse changes), so nobody creates, edits or deletes them here. The
    coverage screen is the per-version view; there is no inspect route."""

    def user_may_read(self, user):
        return coverage_visible_to(user)


class CoverageButtons(ButtonHelper):
    """Each row links to its coverage screen (the title and a button)."""

    def coverage_button(self, pk, classnames_add=None, classnames_exclude=None):
        return {
            "url": reverse("agreements_coverage", args=[pk]),
            "label": "Coverage",
            "classname": self.finalise_classname(
                classnames_add or [], classnames_exclude or []
            ),
            "title": "Which organisations have acknowledged this version",
        }

    def get_buttons_for_obj(
        self, obj, exclude=None, classnames_add=None, classnames_exclude=None
    ):
        return [
            self.coverage_button(obj.pk, classnames_add, classnames_exclude),
            *super().get_buttons_for_obj(
                obj, exclude, classnames_add, classnames_exclude
            ),
        ]

    def get_primary_button(self, obj):
        return self.coverage_button(obj.pk)


class CoverageIndexView(SafeExportIndexView):
    """The versions list, with an export that cannot run formulas and is
    recorded, as every other export."""

    exported_action = AgreementAction.COVERAGE_LIST_EXPORTED
    list_viewed_action = AgreementAction.COVERAGE_LIST_VIEWED
    # Given in full: modeladmin would otherwise Title Case Every Heading.
    export_headings = {
        "title": "Title",
        "reference": "Reference",
        "number": "Version",
        "change_type": "Change",
        "published_at": "Published at",
        "published_by_label": "Published by",
        "version_state": "Current or superseded",
        "coverage_percent": "Coverage",
        "next_review_date": "Next review",
        "review_state": "Review",
    }


class AgreementCoverageAdmin(PortalModelAdmin):
    model = AgreementVersion
    menu_label = "Agreement coverage"
    menu_icon = "doc-full"
    menu_order = 250
    add_to_settings_menu = False
    # modeladmin's history view checks no permission at all; versions have no
    # history to show anyway (they never change), so it is not routed.
    history_view_enabled = False
    permission_helper_class = CoordinatorsReadOnly
    button_helper_class = CoverageButtons
    index_view_class = CoverageIndexView
    list_display = (
        "title",
        "version_number",
        "published_at",
        "version_state",
        "coverage_link",
        "next_review",
    )
    list_filter = ("kind",)
    search_fields = ("title", "reference")
    ordering = ("-published_at", "-pk")
    list_export = (
        "title",
        "reference",
        "number",
        "change_type",
        "published_at",
        "published_by_label",
        "version_state",
        "coverage_percent",
        "next_review_date",
        "review_state",
    )
    export_filename = "agreement-coverage"

    def get_queryset(self, request):
        newer = AgreementVersion.objects.filter(page_id=OuterRef("page_id")).filter(
            Q(major__gt=OuterRef("major"))
            | Q(major=OuterRef("major"), minor__gt=OuterRef("minor"))
        )
        # One query for the list whatever its length; the frozen text is not shown.
        return (
            super()
            .get_queryset(request)
            .defer("clauses", "canonical_text")
            .annotate(is_superseded=Exists(newer))
        )

    def get_permissions_for_registration(self):
        # The helper above ignores model permissions, so offering them on the
        # group screen would only mislead.
        return Permission.objects.none()

    @staticmethod
    def _review_overdue(obj) -> bool:
        # Only the current version is due for review; older ones were replaced.
        return not obj.is_superseded and obj.review_overdue(timezone.localdate())

    @staticmethod
    def _coverage_text(obj) -> str:
        # A few queries per version, none per organisation (see selectors.coverage).
        _, percent = coverage(obj)
        return f"{percent}%"

    def version_number(self, obj):
        return obj.number

    version_number.short_description = "Version"

    def version_state(self, obj):
        return "Superseded" if obj.is_superseded else "Current"

    version_state.short_description = "Current or superseded"

    def coverage_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("agreements_coverage", args=[obj.pk]),
            self._coverage_text(obj),
        )

    coverage_link.short_description = "Coverage"

    def coverage_percent(self, obj):
        return self._coverage_text(obj)

    coverage_percent.short_description = "Coverage"

    def next_review(self, obj):
        text = long_date(obj.next_review_date)
        return f"{text} (overdue)" if self._review_overdue(obj) else text

    next_review.short_description = "Next review"

    def review_state(self, obj):
        if obj.is_superseded:
            return "Superseded"
        return "Overdue" if self._review_overdue(obj) else "Not yet due"

    review_state.short_description = "Review"


modeladmin_register(AgreementCoverageAdmin)


CSV_HEADINGS = [
    "Organisation",
    "Status",
    "Due by",
    "Date acknowledged",
    "Signatory name",
    "Role",
    "Receipt number",
]


def agreement_coverage(request, version_id):
    """Every signatory organisation's status for one version; ?format=csv
    downloads the same rows."""
    if not coverage_visible_to(request.user):
        raise PermissionDenied
    version = get_object_or_404(AgreementVersion, pk=version_id)
    rows, percent = coverage(version)
    if request.GET.get("format") == "csv":
        audit_record(
            action=AgreementAction.COVERAGE_EXPORTED, request=request, obj=version
        )
        return _coverage_csv(version, rows)
    audit_record(action=AgreementAction.COVERAGE_VIEWED, request=request, obj=version)
    today = timezone.localdate()
    return render(
        request,
        "agreements/admin/coverage.html",
        {
            "version": version,
            "rows": rows,
            "percent": percent,
            "acknowledged": sum(
                1 for r in rows if r.state == AcknowledgementState.ACKNOWLEDGED
            ),
            "review_overdue": version.is_current and version.review_overdue(today),
            "header_title": f"Coverage: {version}",
            "page_title": "Agreement coverage",
            "page_subtitle": str(version),
            "header_icon": "doc-full",
        },
    )


def _coverage_csv(version, rows) -> HttpResponse:
    name = f"coverage-{slugify(version.reference)}-v{version.major}-{version.minor}"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    writer = csv.writer(response)
    writer.writerow(CSV_HEADINGS)
    for row in rows:
        ack = row.acknowledgement
        cells = [
            row.organisation_name,
            row.state.capitalize(),
            row.due.isoformat(),
            timezone.localtime(ack.acknowledged_at).date().isoformat() if ack else "",
            ack.signatory_name if ack else "",
            ack.signatory_role if ack else "",
            ack.hash if ack else "",
        ]
        writer.writerow([spreadsheet_safe(cell) for cell in cells])
    return response


@hooks.register("register_admin_urls")
def register_coverage_url():
    return [
        path(
            "agreements/coverage/<int:version_id>/",
            agreement_coverage,
            name="agreements_coverage",
        )
    ]
