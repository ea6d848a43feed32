"""Permission-aware reads of referrals. Views get referrals only through here.

Who sees a referral:
- coordinators see every referral;
- referrers see their own organisation's referrals;
- referrers at another organisation see one once it is shared with their
  organisation (the meetings app shares a referral with every organisation
  invited to a meeting that has it on the agenda);
- nobody at an organisation whose ISA acknowledgement is overdue sees any;
- other roles (signatories, editors, administrators) see none.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import Role, User
from agreements.selectors import case_material_access
from portal.forms import contains_null_character

from .models import Referral, ReferralDraft, ReferralPerson, ReferralShare

REPEAT_WINDOW = timedelta(days=365)


def _base() -> QuerySet[Referral]:
    return Referral.objects.select_related("organisation", "referrer")


def referrals_visible_to(user: User) -> QuerySet[Referral]:
    """The one way to list referrals for a person (see the module docstring)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Referral.objects.none()
    if not case_material_access(user).allowed:
        return Referral.objects.none()
    if user.has_role(Role.COORDINATOR):
        return _base()
    if user.organisation_id is None or not user.has_role(Role.REFERRER):
        return Referral.objects.none()
    shared = ReferralShare.objects.filter(organisation_id=user.organisation_id)
    return _base().filter(
        Q(organisation_id=user.organisation_id) | Q(pk__in=shared.values("referral_id"))
    )


# What a list of referrals shows; the answers and the rest stay in the database.
LIST_FIELDS = (
    "reference", "organisation__name", "status", "urgent", "submitted_at",
    "do_not_disclose", "anonymous_source",
)  # fmt: skip


def referrals_page(user: User, number, per_page: int) -> Page:
    """One page of the referrals ``user`` may see, newest first, with their
    people.

    The page is cut from the ids alone (an index scan, however deep the page)
    and only its rows are then loaded, with just the columns a list shows.
    """
    visible = referrals_visible_to(user)
    page = Paginator(visible.values_list("pk", flat=True), per_page).get_page(number)
    ids = list(page.object_list)
    rows = (
        visible.filter(pk__in=ids)
        .select_related(None)
        .select_related("organisation")
        .only(*LIST_FIELDS)
        .prefetch_related("people")
    )
    by_id = {referral.pk: referral for referral in rows}
    page.object_list = [by_id[pk] for pk in ids if pk in by_id]
    return page


def referral_for(user: User, reference: str) -> Referral:
    """The referral, or 404 if ``user`` may not see it (never 403: a 403 would
    confirm the reference exists)."""
    if contains_null_character(reference):  # PostgreSQL cannot compare it
        raise Http404("No referral found")
    referral = referrals_visible_to(user).filter(reference=reference).first()
    if referral is None:
        raise Http404("No referral found")
    return referral


def sees_everything(user: User, referral: Referral) -> bool:
    """Coordinators and the referring organisation see the flagged details."""
    return (
        user.has_role(Role.COORDINATOR)
        or user.organisation_id == referral.organisation_id
    )


def redaction_for(user: User, referral: Referral) -> dict | None:
    """The flags that hide details from ``user``, or None if nothing is hidden."""
    if sees_everything(user, referral):
        return None
    flags = {
        "do_not_disclose": referral.do_not_disclose,
        "anonymous_source": referral.anonymous_source,
    }
    return flags if any(flags.values()) else None


def may_screen(user: User) -> bool:
    return user.has_role(Role.COORDINATOR)


def may_start_from(user: User, referral: Referral) -> bool:
    return (
        user.has_role(Role.REFERRER)
        and user.organisation_id == referral.organisation_id
    )


@dataclass(frozen=True)
class EarlierReferral:
    person_name: str
    reference: str
    submitted_at: object
    status: str


def earlier_referrals(referral: Referral) -> list[EarlierReferral]:
    """Referrals in the 12 months before this one about a person with the same
    name and date of birth. For coordinators only: callers check."""
    people = [p for p in referral.people.all() if p.date_of_birth is not None]
    if not people:
        return []
    match = Q()
    for person in people:
        match |= Q(name_key=person.name_key, date_of_birth=person.date_of_birth)
    earlier = (
        ReferralPerson.objects.filter(match)
        .filter(
            referral__submitted_at__lt=referral.submitted_at,
            referral__submitted_at__gte=referral.submitted_at - REPEAT_WINDOW,
        )
        .exclude(referral=referral)
        .select_related("referral")
        .order_by("-referral__submitted_at")
    )
    return [
        EarlierReferral(
            person.full_name,
            person.referral.reference,
            person.referral.submitted_at,
            person.referral.get_status_display(),
        )
        for person in earlier
    ]


def drafts_of(user: User) -> QuerySet[ReferralDraft]:
    """The person's own drafts not yet submitted (drafts are never shared)."""
    return ReferralDraft.objects.filter(owner=user, referral__isnull=True)


def draft_for(user: User, public_id) -> ReferralDraft:
    """The person's own draft, or 404. A submitted draft is still found, so a
    resubmitted page can lead to its referral."""
    draft = (
        ReferralDraft.objects.select_related("referral")
        .filter(owner=user, public_id=public_id)
        .first()
    )
    if draft is None:
        raise Http404("No draft found")
    return draft


REFERENCE_PATTERN = re.compile(r"^CM-\d{4}-\d{4,}$", re.IGNORECASE)


def referrals_matching(user: User, text: str) -> QuerySet[Referral]:
    """Coordinators' search: a reference, or every word of a person's name
    (any order, any case, punctuation ignored). Nobody else searches cases."""
    from .services import name_key

    if not user.has_role(Role.COORDINATOR):
        return Referral.objects.none()
    text = text.strip()
    visible = referrals_visible_to(user)
    if REFERENCE_PATTERN.match(text):
        return visible.filter(reference__iexact=text)
    words = name_key(text).split()
    if not words:
        return Referral.objects.none()
    people = ReferralPerson.objects.all()
    for word in words:
        people = people.filter(name_key__contains=word)
    return visible.filter(pk__in=people.values("referral_id")).order_by("-submitted_at")
