"""Permission-aware reads: a person only ever reaches their own notices."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Organisation, Role, User

from .models import CHOOSABLE, EmailChoice, Notice


def notices_for(user: User) -> QuerySet[Notice]:
    return Notice.objects.filter(recipient=user)


def notice_for(user: User, notice_id: int) -> Notice:
    """The person's own notice, or 404: another person's looks like none."""
    return get_object_or_404(notices_for(user), pk=notice_id)


def unread_count(user: User) -> int:
    return notices_for(user).filter(read_at__isnull=True).count()


def email_choices(user: User) -> dict[str, bool]:
    """Each choosable kind and whether the person wants email for it."""
    stored = dict(EmailChoice.objects.filter(user=user).values_list("kind", "email"))
    return {kind.value: stored.get(kind.value, True) for kind in CHOOSABLE}


def organisation_people(organisation: Organisation) -> QuerySet[User]:
    """The organisation's active caseworkers (its referrers): told of the case
    material that arrives for it, which their pages (the case, the action to
    update, the pack, the shared files) are for. Its signatories, editors,
    board members and data protection officer cannot open those pages, and
    coordinators reach them through their own lists, so a notice would only
    lead them to "not found"."""
    return (
        User.objects.filter(organisation=organisation, is_active=True)
        .filter(groups__name=Role.REFERRER.value)
        .distinct()
        .order_by("pk")
    )
