"""Background work in the Wagtail admin, for coordinators: emails not yet
delivered or given up, and tasks that failed. Read-only: rows are born in the
queue, and a failed job is fixed by fixing its cause (docs/operations.md)."""

from django_tasks_db.models import DBTaskResult
from wagtail_modeladmin.options import ModelAdminGroup, modeladmin_register

from audit.readonly import ReadOnlyPermissionHelper
from portal.modeladmin import PortalModelAdmin, WholeNumberIdURLHelper

from .models import OutgoingEmail

UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class ViewPermissionReadOnly(ReadOnlyPermissionHelper):
    """Readers hold the model's view permission (coordinators do: accounts.roles)."""

    def user_may_read(self, user):
        return user.is_active and user.has_perm(
            f"{self.opts.app_label}.view_{self.opts.model_name}"
        )


class UUIDURLHelper(WholeNumberIdURLHelper):
    # Task results are named by UUIDs; anything else finds no route (404).
    def _get_object_specific_action_url_pattern(self, action):
        return rf"^{self.base_url_path}/{action}/(?P<instance_pk>{UUID_PATTERN})/$"


class OutgoingEmailAdmin(PortalModelAdmin):
    model = OutgoingEmail
    menu_label = "Emails"
    menu_icon = "mail"
    permission_helper_class = ViewPermissionReadOnly
    history_view_enabled = False
    inspect_view_enabled = True
    list_display = ("created_at", "to", "subject", "status", "attempts", "last_error")
    list_filter = ("status",)
    search_fields = ("to", "subject", "event")
    inspect_view_fields = (
        "event",
        "to",
        "subject",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
        "sent_at",
        "last_error",
    )


class TaskResultAdmin(PortalModelAdmin):
    model = DBTaskResult
    menu_label = "Tasks"
    menu_icon = "cogs"
    permission_helper_class = ViewPermissionReadOnly
    url_helper_class = UUIDURLHelper
    history_view_enabled = False
    inspect_view_enabled = True
    list_display = ("task_name", "status", "enqueued_at", "finished_at")
    # The model's own ordering is expressions, which modeladmin cannot read.
    ordering = ("-enqueued_at",)
    list_filter = ("status",)
    inspect_view_fields = (
        "task_path",
        "status",
        "enqueued_at",
        "run_after",
        "started_at",
        "finished_at",
        "exception_class_path",
        "traceback",
    )


class BackgroundWorkGroup(ModelAdminGroup):
    menu_label = "Background work"
    menu_icon = "cogs"
    menu_order = 850
    items = (OutgoingEmailAdmin, TaskResultAdmin)


modeladmin_register(BackgroundWorkGroup)
