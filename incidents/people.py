"""Who handles incidents: coordinators, and the data protection officer.

The DPO is the ``accounts.models.Role.DPO`` group; its members and the
coordinators are told of every incident and alert, triage incidents and take
containment actions.
"""

from django.db.models import Q, QuerySet

from accounts.models import Role, User

DPO_GROUP: str = Role.DPO.value


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
