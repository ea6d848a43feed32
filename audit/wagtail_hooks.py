"""The audit log in the Wagtail admin: read-only, for administrators only."""

from wagtail_modeladmin.options import modeladmin_register

from portal.modeladmin import PortalModelAdmin

from .models import AuditEvent
from .readonly import ReadOnlyPermissionHelper
from .services import audit_record


class AdministratorsReadOnly(ReadOnlyPermissionHelper):
    """Only superusers read the log; nobody changes it."""

    def user_may_read(self, user):
        return user.is_active and user.is_superuser


class AuditEventAdmin(PortalModelAdmin):
    model = AuditEvent
    menu_label = "Audit log"
    menu_icon = "history"
    menu_order = 900
    add_to_settings_menu = True
    permission_helper_class = AdministratorsReadOnly
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
        "hash",
    )
    inspect_view_fields = (
        *list_export,
        "detail",
        "previous_hash",
    )

    def index_view(self, request):
        # Reading the log is itself recorded: it names people and what they did.
        audit_record(action="audit.log_viewed", request=request)
        return super().index_view(request)

    def inspect_view(self, request, instance_pk):
        audit_record(
            action="audit.event_viewed",
            request=request,
            object_type="audit.auditevent",
            object_id=instance_pk,
        )
        return super().inspect_view(request, instance_pk)


modeladmin_register(AuditEventAdmin)
