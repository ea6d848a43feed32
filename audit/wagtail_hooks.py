"""The audit log in the Wagtail admin: read-only, for administrators only."""

from wagtail_modeladmin.options import modeladmin_register

from portal.modeladmin import PortalModelAdmin

from .audit_actions import AuditAction
from .checkpoints import utc_text
from .exports import SafeExportIndexView
from .models import AuditEvent
from .readonly import ReadOnlyPermissionHelper
from .selectors import audit_events
from .services import audit_record


class AdministratorsReadOnly(ReadOnlyPermissionHelper):
    """Only superusers read the log; nobody changes it."""

    def user_may_read(self, user):
        return user.is_active and user.is_superuser


class AuditLogIndexView(SafeExportIndexView):
    """The log's list and its export: what a failed sign-in's user agent says
    is typed by anyone on the internet, so it must never run as a formula."""

    # Reading the log is itself recorded: it names people and what they did.
    list_viewed_action = AuditAction.LOG_VIEWED
    exported_action = AuditAction.LOG_EXPORTED
    export_filename = "audit-log"
    # To the second, in UTC, as verify_audit names events.
    custom_field_preprocess = {"at": {SafeExportIndexView.FORMAT_CSV: utc_text}}
    export_headings = {
        "id": "Event",
        "at": "Time",
        "actor_label": "User",
        "organisation_label": "Organisation",
        "action": "Action",
        "object_type": "Object type",
        "object_id": "Object id",
        "outcome": "Outcome",
        "ip_address": "IP address",
        "user_agent": "User agent",
        "detail_text": "Detail",
        "key_id": "Key id",
        "hash": "Hash",
    }


class AuditEventAdmin(PortalModelAdmin):
    model = AuditEvent
    menu_label = "Audit log"
    menu_icon = "history"
    menu_order = 900
    add_to_settings_menu = True
    permission_helper_class = AdministratorsReadOnly
    index_view_class = AuditLogIndexView
    # modeladmin's history view checks no permission at all: keep it off.
    history_view_enabled = False
    inspect_view_enabled = True
    list_display = (
        "at",
        "actor_label",
        "organisation_label",
        "action",
        "object_type",
        "object_id",
        "outcome",
        "ip_address",
    )
    list_filter = ("outcome", "action", "organisation_label")
    search_fields = ("actor_label", "action", "object_type", "object_id")
    list_export = (
        "id",
        "at",
        "actor_label",
        "organisation_label",
        "action",
        "object_type",
        "object_id",
        "outcome",
        "ip_address",
        "user_agent",
        "detail_text",
        "key_id",
        "hash",
    )
    inspect_view_fields = (
        *[name for name in list_export if name != "detail_text"],
        "detail",
        "previous_hash",
    )

    def get_queryset(self, request):
        # Events waiting to be chained are chained first: the list, its export
        # and the inspect view show every event recorded so far.
        return audit_events()

    def inspect_view(self, request, instance_pk):
        audit_record(
            action=AuditAction.EVENT_VIEWED,
            request=request,
            object_type="audit.auditevent",
            object_id=instance_pk,
        )
        return super().inspect_view(request, instance_pk)


modeladmin_register(AuditEventAdmin)
