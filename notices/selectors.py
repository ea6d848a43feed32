"""Permission-aware reads: a person only ever reaches their own notices."""

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from accounts.models import Organisation, Role, User

from .models import CHOOSABLE, EmailChoice, Notice


def notices_for(user: User) -> QuerySet[Notice]:
    return Notice.objects.filter(recipient=user)


def notice_for(user: User, notice_id: int) -> Notice:
    """The person's own notice, or 404: another person's looks like none."""
    return get_object_or_404(notices_for(user), pk=notice_id)


# The unread count read with the signed-in person (accounts.backends), as
# the request began; dropped by anything in the request that marks notices read.
UNREAD_ON_USER = "notices_unread_at_start"


def unread_count_expression():
    """The person's unread notices, as an expression over the user's row."""
    unread = (
        Notice.objects.filter(recipient=OuterRef("pk"), read_at__isnull=True)
        .order_by()
        .values("recipient")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(unread), 0, output_field=IntegerField())


def unread_count(user: User) -> int:
    known = getattr(user, UNREAD_ON_USER, None)
    if known is not None:
        return known
    return notices_for(user).filter(read_at__isnull=True).count()


def unread_count_changed(user: User) -> None:
    """Forget the count read as the request began: this request changed it."""
    user.__dict__.pop(UNREAD_ON_USER, None)


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
