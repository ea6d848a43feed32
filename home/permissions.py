"""Who may edit and publish pages, and the approval step before publishing.

Editors draft and submit; coordinators approve, which publishes. Kept in
step after every migrate, like the role groups (accounts.roles).
"""

from django.contrib.auth.models import Group, Permission
from wagtail.models import (
    GroupApprovalTask,
    GroupPagePermission,
    Page,
    Workflow,
    WorkflowPage,
    WorkflowTask,
)

from accounts.models import Role

WORKFLOW_NAME = "Coordinator approval"
PAGE_PERMISSIONS = {
    Role.EDITOR: ["add_page", "change_page"],
    Role.COORDINATOR: ["add_page", "change_page", "publish_page"],
}


def page_permissions_sync(**kwargs) -> None:
    root = Page.get_first_root_node()
    if root is None or not Permission.objects.filter(codename="publish_page").exists():
        return  # wagtailcore is not migrated yet
    for role, codenames in PAGE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        for codename in codenames:
            GroupPagePermission.objects.get_or_create(
                group=group,
                page=root,
                permission=Permission.objects.get(
                    content_type__app_label="wagtailcore", codename=codename
                ),
            )
    _approval_workflow(root)


def _approval_workflow(root) -> None:
    coordinators, _ = Group.objects.get_or_create(name=Role.COORDINATOR.value)
    task, _ = GroupApprovalTask.objects.get_or_create(name=WORKFLOW_NAME)
    task.groups.set([coordinators])
    workflow, _ = Workflow.objects.get_or_create(name=WORKFLOW_NAME)
    WorkflowTask.objects.get_or_create(workflow=workflow, task=task, sort_order=0)
    # Wagtail's default workflow (moderators) gives way to ours on the whole tree.
    WorkflowPage.objects.update_or_create(page=root, defaults={"workflow": workflow})
