"""Meetings in the Wagtail admin, for coordinators only: meetings, actions and
attendance, each with a spreadsheet-safe, audited export.

- Meetings: created through ``meeting_schedule`` and changed through
  ``meeting_update``, so the admin obeys the same rules as the front end. The
  agenda is built on the meeting's own page, which every row links to.
- Actions: coordinators may record progress for an agency, through
  ``action_update`` (audited); actions are born at a meeting, never here.
- Attendance: read only; the register is taken at the meeting.

Nothing here is deleted: meetings, actions and attendance are case records.
"""

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.models import Permission
from django.db.models import Count
from django.shortcuts import redirect
from django.urls import re_path
from django.utils.html import format_html
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail_modeladmin.helpers import PermissionHelper
from wagtail_modeladmin.options import ModelAdminGroup, modeladmin_register

from accounts.forms import PersonChoiceField
from accounts.models import Role
from agreements.selectors import case_material_access
from audit.exports import SafeExportIndexView
from audit.services import audit_read
from portal.dates import long_datetime
from portal.forms import RefusesNullCharacters, TextAreaField
from portal.modeladmin import PortalModelAdmin, RefusingCreateView, RefusingEditView

from .audit_actions import MeetingAction
from .models import Action, Attendance, Meeting, Rag
from .selectors import chairs_available, full_meetings_ahead, meetings_visible_to
from .services import MeetingRefused, action_update, meeting_schedule, meeting_update


def _local(value: datetime.datetime | None) -> str:
    if value is None:
        return ""
    return long_datetime(value)


def coordinator_may_read(user) -> bool:
    """Coordinators whose organisation may see case material (the ISA check);
    an administrator without the role sees no case material here.

    Kept on the user object, which lives for one request: the list asks once
    per row for its edit button, and the ISA check runs queries.
    """
    cached = getattr(user, "_meetings_admin_may_read", None)
    if cached is None:
        cached = (
            bool(getattr(user, "is_authenticated", False))
            and user.is_active
            and user.has_role(Role.COORDINATOR)
            and case_material_access(user).allowed
        )
        if getattr(user, "is_authenticated", False):
            user._meetings_admin_may_read = cached
    return cached


class CoordinatorsPermissions(PermissionHelper):
    """Model permissions play no part: the Coordinator role decides. Each
    subclass says whether coordinators may create or edit; nobody deletes."""

    may_create = False
    may_edit = False

    def user_can_list(self, user):
        return coordinator_may_read(user)

    def user_can_inspect_obj(self, user, obj):
        return False

    def user_can_create(self, user):
        return self.may_create and coordinator_may_read(user)

    def user_can_edit_obj(self, user, obj):
        return self.may_edit and coordinator_may_read(user)

    def user_can_delete_obj(self, user, obj):
        return False


class MeetingsPermissions(CoordinatorsPermissions):
    may_create = True
    may_edit = True

    def user_can_edit_obj(self, user, obj):
        # No "Edit" button for a meeting the rules no longer let change.
        return super().user_can_edit_obj(user, obj) and not obj.refusal(
            "change_details"
        )


class ActionsPermissions(CoordinatorsPermissions):
    may_edit = True


class CaseRecordAdmin(PortalModelAdmin):
    """What the three lists share."""

    permission_helper_class = CoordinatorsPermissions
    add_to_settings_menu = False
    inspect_view_enabled = False
    # modeladmin's history view checks no permission of ours.
    history_view_enabled = False
    list_per_page = 50

    def get_admin_urls_for_registration(self):
        # Only the routes a coordinator uses: no delete route exists to reach.
        helper = self.permission_helper_class
        actions = ["index"]
        if helper.may_create:
            actions.append("create")
        if helper.may_edit:
            actions.append("edit")
        return tuple(
            re_path(
                self.url_helper.get_action_url_pattern(action),
                getattr(self, f"{action}_view"),
                name=self.url_helper.get_action_url_name(action),
            )
            for action in actions
        )

    def get_permissions_for_registration(self):
        # The role decides; model permissions on the group screen would mislead.
        return Permission.objects.none()

    def register_indexing(self):
        # Case records, not content: keep them out of Wagtail's reference index.
        pass


# Meetings -----------------------------------------------------------------------


class MeetingForm(RefusesNullCharacters, WagtailAdminModelForm):
    """The fields a coordinator sets; the services apply the rules on save."""

    # Links are typed without a scheme as often as with; assume https.
    online_link = forms.URLField(
        required=False, max_length=200, assume_scheme="https", label="Online link"
    )

    class Meta:
        model = Meeting
        fields = ["kind", "starts_at", "location", "online_link", "chair",
                  "referral_deadline", "reported_to"]  # fmt: skip
        # A Meta of our own drops Wagtail's field overrides, and with them the
        # person picker that names each person's organisation (accounts.apps).
        field_classes = {"chair": PersonChoiceField}

    def __init__(self, *args, for_user=None, **kwargs):
        super().__init__(*args, for_user=for_user, **kwargs)
        self.fields["chair"].queryset = chairs_available()
        if "referral_deadline" in self.fields:
            self.fields["referral_deadline"].required = False
            self.fields["referral_deadline"].help_text = (
                "Referrals accepted by this date can go on the agenda. Leave "
                "empty for the usual number of working days before the meeting."
            )
        if "reported_to" in self.fields:
            self.fields["reported_to"].queryset = (
                full_meetings_ahead(for_user) if for_user else Meeting.objects.none()
            )

    def clean(self):
        data = super().clean()
        if not (data.get("location") or "").strip() and not data.get("online_link"):
            raise forms.ValidationError(
                "Enter where the meeting is, or its online link"
            )
        return data


class MeetingEditForm(MeetingForm):
    class Meta(MeetingForm.Meta):
        fields = ["starts_at", "location", "online_link", "chair",
                  "referral_deadline"]  # fmt: skip


class MeetingCreateView(RefusingCreateView):
    def form_valid(self, form):
        data = form.cleaned_data
        try:
            meeting = meeting_schedule(
                user=self.request.user,
                starts_at=data["starts_at"],
                chair=data["chair"],
                location=data["location"],
                online_link=data["online_link"],
                kind=data["kind"],
                referral_deadline=data.get("referral_deadline"),
                reported_to=data.get("reported_to"),
                request=self.request,
            )
        except MeetingRefused as exc:
            form.add_error(None, str(exc))
            return self.form_invalid(form)
        messages.success(self.request, f"{meeting} is scheduled. Now add its cases.")
        # The agenda is built on the meeting's page.
        return redirect(meeting.get_absolute_url())


class MeetingEditView(RefusingEditView):
    # A narrower form than scheduling: the kind, and which full meeting an
    # urgent one reports to, are fixed once scheduled.

    def dispatch(self, request, *args, **kwargs):
        # Not offered once held (MeetingsPermissions); a direct visit or post
        # is sent back to the list with the rule's words rather than a 403.
        refusal = self.instance.refusal("change_details")
        if refusal and coordinator_may_read(request.user):
            messages.error(request, refusal)
            return redirect(self.index_url)
        return super().dispatch(request, *args, **kwargs)

    def get_edit_handler(self):
        return ObjectList(
            [FieldPanel(name) for name in MeetingEditForm.Meta.fields],
            base_form_class=MeetingEditForm,
        ).bind_to_model(Meeting)

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            meeting = meeting_update(
                # The form has already written its values onto self.instance;
                # the service reads the meeting afresh and compares.
                meeting=Meeting.objects.get(pk=self.instance.pk),
                user=self.request.user,
                request=self.request,
                **{name: data[name] for name in MeetingEditForm.Meta.fields},
            )
        except MeetingRefused as exc:
            form.add_error(None, str(exc))
            return self.form_invalid(form)
        messages.success(self.request, f"{meeting} is updated.")
        return redirect(self.get_success_url())


class MeetingIndexView(SafeExportIndexView):
    exported_action = MeetingAction.EXPORTED
    list_viewed_action = MeetingAction.LIST_VIEWED
    export_filename = "meetings"
    export_headings = {
        "starts_at": "Starts at",
        "kind_label": "Kind",
        "status_label": "Status",
        "chair_name": "Chair",
        "case_count": "Cases",
        "location": "Location",
    }


class MeetingAdmin(CaseRecordAdmin):
    model = Meeting
    menu_label = "Meetings"
    menu_icon = "date"
    permission_helper_class = MeetingsPermissions
    index_view_class = MeetingIndexView
    create_view_class = MeetingCreateView
    edit_view_class = MeetingEditView
    edit_handler = ObjectList(
        [FieldPanel(name) for name in MeetingForm.Meta.fields],
        base_form_class=MeetingForm,
    )
    list_display = ("when", "kind", "status", "chair", "case_count", "agenda_link")
    list_filter = ("status", "kind")
    ordering = ("-starts_at",)
    list_export = ("starts_at", "kind_label", "status_label", "chair_name",
                   "case_count", "location")  # fmt: skip

    def get_queryset(self, request):
        return (
            meetings_visible_to(request.user)
            .annotate(cases=Count("agenda_items"))
            .order_by(*self.ordering)
        )

    def when(self, obj):
        return _local(obj.starts_at)

    when.short_description = "Date"
    when.admin_order_field = "starts_at"

    def case_count(self, obj):
        return obj.cases

    case_count.short_description = "Cases"
    case_count.admin_order_field = "cases"

    def agenda_link(self, obj):
        return format_html('<a href="{}">Agenda and papers</a>', obj.get_absolute_url())

    agenda_link.short_description = "Meeting page"

    def kind_label(self, obj):
        return obj.get_kind_display()

    def status_label(self, obj):
        return obj.get_status_display()

    def chair_name(self, obj):
        return obj.chair.get_full_name() or obj.chair.get_username()


# Actions ------------------------------------------------------------------------


class ActionProgressForm(RefusesNullCharacters, WagtailAdminModelForm):
    class Meta:
        model = Action
        fields = ["status", "update"]
        # Plain newlines, as the agencies' own form stores them.
        field_classes = {"update": TextAreaField}


class ActionEditView(RefusingEditView):
    def get(self, request, *args, **kwargs):
        audit_read(request, self.instance)
        return super().get(request, *args, **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            action_update(
                action=self.instance,
                user=self.request.user,
                status=data["status"],
                update=data["update"],
                request=self.request,
            )
        except MeetingRefused as exc:
            form.add_error(None, str(exc))
            return self.form_invalid(form)
        messages.success(self.request, f"Action for {self.instance.referral} updated.")
        return redirect(self.get_success_url())


class ActionIndexView(SafeExportIndexView):
    exported_action = MeetingAction.ACTIONS_EXPORTED
    list_viewed_action = MeetingAction.ACTIONS_LIST_VIEWED
    export_filename = "meeting-actions"
    # No description or progress note: they may name people. The reference and
    # the officer are what is needed to chase an action.
    export_headings = {
        "reference": "Case reference",
        "meeting_day": "Agreed at meeting",
        "owner_name": "Owner organisation",
        "officer": "Named officer",
        "due": "Due",
        "status_label": "Status",
        "rag_label": "RAG",
    }


class ActionAdmin(CaseRecordAdmin):
    model = Action
    menu_label = "Actions"
    menu_icon = "tasks"
    permission_helper_class = ActionsPermissions
    index_view_class = ActionIndexView
    edit_view_class = ActionEditView
    panels = [FieldPanel("status"), FieldPanel("update")]
    edit_handler = ObjectList(panels, base_form_class=ActionProgressForm)
    list_display = ("reference", "owner", "officer", "due", "status", "rag_badge")
    list_filter = ("status", "owner")
    ordering = ("due", "pk")
    list_export = ("reference", "meeting_day", "owner_name", "officer", "due",
                   "status_label", "rag_label")  # fmt: skip

    def get_queryset(self, request):
        return (
            Action.objects.filter(
                agenda_item__meeting__in=meetings_visible_to(request.user)
            )
            .select_related("referral", "owner", "agenda_item__meeting")
            .order_by(*self.ordering)
        )

    def reference(self, obj):
        return obj.referral.reference

    reference.short_description = "Case reference"
    reference.admin_order_field = "referral__number"

    def rag_badge(self, obj):
        rag = obj.rag()
        if not rag:
            return "Finished"
        return format_html('<span class="status-tag">{}</span>', obj_rag_label(rag))

    rag_badge.short_description = "RAG"

    def meeting_day(self, obj):
        return obj.agenda_item.meeting.day

    def owner_name(self, obj):
        return obj.owner.name

    def status_label(self, obj):
        return obj.get_status_display()

    def rag_label(self, obj):
        rag = obj.rag()
        return obj_rag_label(rag) if rag else "Finished"


def obj_rag_label(rag: str) -> str:
    """Words as well as a colour, e.g. "Red: overdue" (WCAG 1.4.1)."""
    return f"{rag.capitalize()}: {Rag(rag).label.lower()}"


# Attendance ---------------------------------------------------------------------


class AttendanceIndexView(SafeExportIndexView):
    exported_action = MeetingAction.ATTENDANCE_EXPORTED
    list_viewed_action = MeetingAction.ATTENDANCE_LIST_VIEWED
    export_filename = "meeting-attendance"
    export_headings = {
        "meeting_day": "Meeting",
        "organisation_name": "Organisation",
        "name": "Name",
        "status_label": "Attendance",
        "confidentiality_confirmed_at": "Confidentiality confirmed at",
    }


class AttendanceAdmin(CaseRecordAdmin):
    model = Attendance
    menu_label = "Attendance"
    menu_icon = "group"
    index_view_class = AttendanceIndexView
    list_display = ("meeting", "organisation", "name", "status", "confirmed")
    list_filter = ("meeting", "status")
    ordering = ("-meeting__starts_at", "organisation__name", "name")
    list_export = ("meeting_day", "organisation_name", "name", "status_label",
                   "confidentiality_confirmed_at")  # fmt: skip

    def register_admin_url_finders(self):
        # No edit screen, so Wagtail should offer no edit link.
        pass

    def get_queryset(self, request):
        return (
            Attendance.objects.filter(meeting__in=meetings_visible_to(request.user))
            .select_related("meeting", "organisation")
            .order_by(*self.ordering)
        )

    def confirmed(self, obj):
        return _local(obj.confidentiality_confirmed_at) or "Not confirmed"

    confirmed.short_description = "Confidentiality confirmed"

    def meeting_day(self, obj):
        return obj.meeting.day

    def organisation_name(self, obj):
        return obj.organisation.name

    def status_label(self, obj):
        return obj.get_status_display()


class MeetingsGroup(ModelAdminGroup):
    menu_label = "Meetings"
    menu_icon = "date"
    menu_order = 210
    items = (MeetingAdmin, ActionAdmin, AttendanceAdmin)


modeladmin_register(MeetingsGroup)
