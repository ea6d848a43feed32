"""The role groups and the Wagtail permissions each carries.

Kept in step after every migrate, so a fresh database and an old one agree.
Only superusers manage users and groups: no role is given those permissions.
"""

from django.contrib.auth.models import Group, Permission

from .models import Role

ROLE_PERMISSIONS = {
    Role.REFERRER: [],
    Role.SIGNATORY: [],
    Role.COORDINATOR: [
        "wagtailadmin.access_admin",
        "accounts.view_organisation",
        # The background work lists: undelivered emails and failed tasks.
        "jobs.view_outgoingemail",
        "django_tasks_database.view_dbtaskresult",
    ],
    Role.EDITOR: [
        "wagtailadmin.access_admin",
    ],
    # The data protection officer's screens are the portal's own (/rights/),
    # not the Wagtail admin: no admin permission is needed.
    Role.DPO: [],
    # The board's statistics are a portal page, not the admin.
    Role.BOARD: [],
}


def roles_sync(**kwargs) -> None:
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        wanted = [_permission(label) for label in codenames]
        group.permissions.add(*[p for p in wanted if p is not None])


def _permission(label: str):
    app_label, codename = label.split(".")
    return Permission.objects.filter(
        content_type__app_label=app_label, codename=codename
    ).first()
