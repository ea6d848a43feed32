"""Who handles incidents: coordinators, and the data protection officer.

The DPO is a role group. ``DPO_GROUP`` is the one place its name is known:
``accounts.models.Role.DPO`` once that role exists, otherwise the group name
below; people in either group are told of every incident and alert, triage
incidents and take containment actions.
"""

from django.db.models import Q, QuerySet

from accounts.models import Role, User

_DPO_GROUP_FALLBACK = "Data protection officers"
DPO_GROUP: str = getattr(getattr(Role, "DPO", None), "value", _DPO_GROUP_FALLBACK)


def is_dpo(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and DPO_GROUP in user.role_names
    )


def may_handle(user) -> bool:
    """Coordinators and the DPO triage, decide and contain."""
    return bool(
        getattr(user, "is_authenticated", False)
        and (user.has_role(Role.COORDINATOR) or is_dpo(user))
    )


def handlers_to_email() -> QuerySet[User]:
    """Active coordinators and DPOs with an email address, each once."""
    return (
        User.objects.filter(is_active=True)
        .filter(Q(groups__name=Role.COORDINATOR.value) | Q(groups__name=DPO_GROUP))
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )
