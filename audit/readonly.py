"""A modeladmin permission helper for records nobody may change in the admin.

Append-only records (audit events, agreement versions) are born elsewhere and
refused by database triggers if changed; the admin only lists and reads them.
"""

from wagtail_modeladmin.helpers import PermissionHelper


class ReadOnlyPermissionHelper(PermissionHelper):
    def user_may_read(self, user) -> bool:
        """Who may list and read; subclasses say. Nobody, by default."""
        return False

    def user_can_list(self, user):
        return self.user_may_read(user)

    def user_can_inspect_obj(self, user, obj):
        return self.inspect_view_enabled and self.user_may_read(user)

    def user_can_create(self, user):
        return False

    def user_can_edit_obj(self, user, obj):
        return False

    def user_can_delete_obj(self, user, obj):
        return False
