"""Referrals in the Wagtail admin: the coordinators' list, case summary and export.

A referral is born by submitting the form and moves only through the case
workflow on the front end (``referrals:detail``), so the admin lists, reads and
exports referrals; it never creates, edits or deletes one. Every list comes from
``referrals_visible_to``, so the admin sees no more than the front end would.
"""

import datetime

from django.contrib.auth.models import Permission
from django.http import Http404
from django.urls import re_path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from wagtail_modeladmin.options import modeladmin_register
from wagtail_modeladmin.views import InspectView

from accounts.models import Role
from audit.exports import SafeExportIndexView
from audit.readonly import ReadOnlyPermissionHelper
from audit.services import audit_read
from portal.modeladmin import PortalModelAdmin

from .answers import all_answers
from .audit_actions import ReferralAction
from .forms import ASB_TYPES
from .models import Referral
from .selectors import earlier_referrals, referrals_visible_to

_ASB_LABELS = dict(ASB_TYPES)


def _local(value: datetime.datetime) -> str:
    return date_format(timezone.localtime(value), "j M Y, H:i")


class CoordinatorsOnly(ReadOnlyPermissionHelper):
    """Only coordinators screen referrals; an administrator without the role
    does not read case material (a superuser gets no exception here)."""

    def user_may_read(self, user):
        return bool(getattr(user, "is_authenticated", False)) and user.has_role(
            Role.COORDINATOR
        )


class ReferralIndexView(SafeExportIndexView):
    """The list, with an export that names nobody and cannot run formulas."""

    exported_action = ReferralAction.EXPORTED
    list_viewed_action = ReferralAction.LIST_VIEWED
    export_headings = {
        "reference": "Reference",
        "status_label": "Status",
        "urgent_label": "Urgent",
        "risk_label": "Risk level",
        "organisation_name": "Referring organisation",
        "submitted_at": "Submitted at",
        "asb_types_label": "Kinds of ASB",
        "status_changed_at": "Status changed at",
    }
    export_filename = "referrals"


class ReferralInspectView(InspectView):
    """The whole referral for screening, with a way to the case page."""

    page_title = "Referral"

    def get(self, request, *args, **kwargs):
        # modeladmin loads the instance through the default manager; read it
        # again through the selector so the admin never shows more than it.
        referral = (
            referrals_visible_to(request.user)
            .prefetch_related("people", "attachments", "events")
            .filter(pk=self.instance.pk)
            .first()
        )
        if referral is None:
            raise Http404("No referral found")
        self.instance = referral
        audit_read(request, referral)
        return super().get(request, *args, **kwargs)

    def get_meta_title(self):
        return f"Referral {self.instance.reference}"

    def get_fields_dict(self):
        referral = self.instance
        rows = [
            ("Reference", referral.reference),
            (
                "Status",
                f"{referral.get_status_display()} since "
                f"{_local(referral.status_changed_at)}",
            ),
            ("Urgent", "Yes: risk of serious harm" if referral.urgent else "No"),
            ("Risk level", referral.get_risk_level_display()),
            ("Referring organisation", referral.organisation.name),
            ("Referrer", str(referral.referrer)),
            ("Submitted", _local(referral.submitted_at)),
            ("People", referral.subject_names),
            (
                "Do not disclose to the person causing harm",
                "Yes" if referral.do_not_disclose else "No",
            ),
            (
                "Source wishes to remain anonymous",
                "Yes" if referral.anonymous_source else "No",
            ),
        ]
        if referral.redirected_to:
            rows.append(("Redirected to", referral.redirected_to))
        if referral.outcome_reason:
            rows.append(("Reason", referral.outcome_reason))
        if referral.feedback:
            rows.append(("Feedback to the referrer", referral.feedback))
        return [{"label": label, "value": value} for label, value in rows]

    def get_context_data(self, **kwargs):
        referral = self.instance
        # Coordinators see everything: no redaction here.
        return super().get_context_data(
            referral=referral,
            sections=all_answers(referral.answers, brief=True),
            events=referral.events.all(),
            earlier=earlier_referrals(referral),
            attachments=referral.attachments.all(),
            case_url=referral.get_absolute_url(),
            **kwargs,
        )


class ReferralAdmin(PortalModelAdmin):
    model = Referral
    menu_label = "Referrals"
    menu_icon = "form"
    menu_order = 200
    add_to_settings_menu = False
    permission_helper_class = CoordinatorsOnly
    index_view_class = ReferralIndexView
    inspect_view_enabled = True
    inspect_view_class = ReferralInspectView
    inspect_template_name = "referrals/admin/inspect.html"
    # modeladmin's history view checks no permission; the case history is on
    # the inspect screen instead.
    history_view_enabled = False
    list_display = (
        "reference",
        "status",
        "urgent_flag",
        "risk_level",
        "organisation",
        "submitted",
        "people_names",
    )
    list_filter = ("status", "organisation", "urgent", "submitted_at")
    # name_key ignores punctuation and word order: "obrien" finds "O'Brien".
    search_fields = ("reference", "people__full_name", "people__name_key")
    ordering = ("-submitted_at", "-pk")
    list_per_page = 50
    # No special-category data and nobody's details: the export leaves the
    # portal, so it carries only what is needed to count and chase cases.
    list_export = (
        "reference",
        "status_label",
        "urgent_label",
        "risk_label",
        "organisation_name",
        "submitted_at",
        "asb_types_label",
        "status_changed_at",
    )

    def get_queryset(self, request):
        # One query for the rows and one for their people, however many rows.
        return (
            referrals_visible_to(request.user)
            .defer("answers")
            .prefetch_related("people")
            .order_by(*self.ordering)
        )

    def get_admin_urls_for_registration(self):
        # Only the list and the inspect screen: no create, edit or delete route
        # exists to be reached, whatever the permission helper says.
        return tuple(
            re_path(
                self.url_helper.get_action_url_pattern(action),
                getattr(self, f"{action}_view"),
                name=self.url_helper.get_action_url_name(action),
            )
            for action in ("index", "inspect")
        )

    def get_permissions_for_registration(self):
        # The helper ignores model permissions: offering them on the group
        # screen would only mislead.
        return Permission.objects.none()

    def register_admin_url_finders(self):
        # There is no edit screen, so Wagtail should offer no edit link.
        pass

    def register_indexing(self):
        # Case records, not content: keep them out of Wagtail's reference index
        # (it would write on every status change and list them on usage screens).
        pass

    # List columns

    def urgent_flag(self, obj):
        return mark_safe("<strong>Urgent</strong>") if obj.urgent else "No"

    urgent_flag.short_description = "Urgent"
    urgent_flag.admin_order_field = "urgent"

    def submitted(self, obj):
        return _local(obj.submitted_at)

    submitted.short_description = "Submitted"
    submitted.admin_order_field = "submitted_at"

    def people_names(self, obj):
        return obj.subject_names

    people_names.short_description = "People"

    # Export columns

    def status_label(self, obj):
        return obj.get_status_display()

    def urgent_label(self, obj):
        return "Yes" if obj.urgent else "No"

    def risk_label(self, obj):
        return obj.get_risk_level_display()

    def organisation_name(self, obj):
        return obj.organisation.name

    def asb_types_label(self, obj):
        return "; ".join(_ASB_LABELS.get(code, code) for code in obj.asb_types)


modeladmin_register(ReferralAdmin)
