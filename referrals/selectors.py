"""Permission-aware reads of referrals. Views get referrals only through here.

Who sees a referral:
- coordinators see every referral;
- referrers see their own organisation's referrals;
- referrers at another organisation see one while a share with their
  organisation is in force: not ended and not past its end date (shares are
  granted by inviting the organisation to the case at a meeting, or by a
  coordinator on the case page; closing the case, the end date, or the
  organisation leaving the ISA ends them: docs/features.md, "Who sees what");
- nobody at an organisation whose ISA acknowledgement is overdue sees any;
- other roles (signatories, editors, administrators) see none.
"""

import operator
import re
from dataclasses import dataclass
from functools import reduce

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import Role, User
from agreements.selectors import case_material_access
from portal.forms import contains_null_character

from . import redaction
from .models import (
    CaseNote,
    Referral,
    ReferralDraft,
    ReferralPerson,
    ReferralShare,
    name_key,
)
from .repeats import earlier_namesakes


def _base() -> QuerySet[Referral]:
    return Referral.objects.select_related("organisation", "referrer")


def referrals_visible_to(user: User) -> QuerySet[Referral]:
    """The one way to list referrals for a person (see the module docstring)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Referral.objects.none()
    if not case_material_access(user).allowed:
        return Referral.objects.none()
    if not user.works_on_cases:
        return Referral.objects.none()
    if user.has_role(Role.COORDINATOR):
        return _base()
    shared = ReferralShare.objects.in_force().filter(
        organisation_id=user.organisation_id
    )
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
    # The reference is unique: no ordering to compile (first() would add the
    # list's), which every case route pays for.
    found = list(referrals_visible_to(user).filter(reference=reference).order_by()[:1])
    if not found:
        raise Http404("No referral found")
    return found[0]


def sees_everything(user: User, referral: Referral) -> bool:
    """Coordinators and the referring organisation see the flagged details."""
    return redaction.sees_everything(redaction.Audience.of_user(user), referral)


def redaction_for(user: User, referral: Referral) -> dict | None:
    """The flags that hide details from ``user``, or None if nothing is hidden."""
    return redaction.redaction_flags(redaction.Audience.of_user(user), referral)


def attachments_visible_to(user: User, referral: Referral) -> QuerySet:
    """The referral's attachments ``user`` may list and download; the only
    way a view gets them (``referrals.redaction`` holds the rule)."""
    return redaction.attachments_for(redaction.Audience.of_user(user), referral)


def case_view_for(user: User, referral: Referral) -> redaction.CaseView:
    """The referral's answers, files and partner summary as ``user`` may see
    them (the case page and its PDF)."""
    return redaction.case_view(redaction.Audience.of_user(user), referral)


def notes_visible_to(user: User, referral: Referral) -> QuerySet:
    """The case's notes ``user`` may read (``referrals.redaction``)."""
    return redaction.notes_for(redaction.Audience.of_user(user), referral)


def case_notes_for_person_index() -> QuerySet:
    """Every case note, for the person index (rights.sources)."""
    return CaseNote.objects.select_related("referral").order_by("pk")


def amendments_for(user: User, referral: Referral) -> list:
    """The referral's corrections as ``user`` may see them: an answer the
    redaction policy withholds is withheld in its history too."""
    from .corrections import amendment_history

    return amendment_history(redaction.Audience.of_user(user), referral)


def may_see_access(user: User, referral: Referral) -> bool:
    """Who sees "Who can see this case and why": coordinators and the
    referring organisation's staff, not the agencies it is shared with (each
    would learn which others are involved, which the case may not allow)."""
    return sees_everything(user, referral)


def shares_in_force(referral: Referral) -> QuerySet[ReferralShare]:
    return (
        ReferralShare.objects.in_force()
        .filter(referral=referral)
        .select_related("organisation", "granted_by")
        .order_by("organisation__name")
    )


def share_for(user: User, referral: Referral, share_id) -> ReferralShare:
    """A share in force on the case, for a coordinator to change, or 404."""
    if not may_screen(user):
        raise Http404("Only coordinators change access")
    share = shares_in_force(referral).filter(pk=share_id).first()
    if share is None:
        raise Http404("No such share")
    return share


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
    name and date of birth (the rule: ``referrals.repeats``), newest first.
    For coordinators only: callers check."""
    matches = [
        earlier_namesakes(
            ReferralPerson.objects.all(),
            name_key=person.name_key,
            date_of_birth=person.date_of_birth,
            referral_id=referral.pk,
            submitted_at=referral.submitted_at,
        )
        for person in referral.people.all()
        if person.date_of_birth is not None
    ]
    if not matches:
        return []
    earlier = (
        reduce(operator.or_, matches)
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


# For the person index (rights) ------------------------------------------------
#
# The data protection officer's index reads every referral, whoever holds it:
# these are not permission-aware, and only ``rights`` calls them, after its
# own check of the role (rights.selectors.may_handle_data_rights).


def referrals_for_person_index() -> QuerySet[Referral]:
    """Every referral with what the index reads of it, in id order."""
    return (
        Referral.objects.select_related("organisation", "free_text_review")
        .prefetch_related("people", "events")
        .order_by("pk")
    )


@dataclass(frozen=True)
class AnsweredField:
    """One answer a referral holds, and where it sits on the form."""

    path: str  # "people.0.full_name", "risk.escalation"
    label: str  # "People, person 1: Full name"
    list_name: str  # "people", "members", "children"; "" for a section's fields
    position: int | None  # the item's place in its list, from 0
    name: str  # the form field's name
    value: object
    free_text: bool  # typed by a person, not picked from choices


def _is_typed(form_field) -> bool:
    from django import forms

    return isinstance(form_field, forms.CharField) and not isinstance(
        form_field.widget, forms.RadioSelect | forms.Select | forms.CheckboxInput
    )


def answered_fields(referral: Referral):
    """Every non-empty answer of ``referral``, with its place and label, in
    the form's order (the sections of ``referrals.forms``)."""
    from .forms import SECTIONS

    for section in SECTIONS:
        answers = referral.answers.get(section.slug) or {}
        values = answers.get("fields") or {}
        for name, form_field in section.form_class.base_fields.items():
            value = values.get(name)
            if value in (None, "", [], False):
                continue
            yield AnsweredField(
                path=f"{section.slug}.{name}",
                label=f"{section.title}: {form_field.label}",
                list_name="",
                position=None,
                name=name,
                value=value,
                free_text=_is_typed(form_field),
            )
        for repeat in section.repeats:
            for position, item in enumerate(answers.get(repeat.prefix) or []):
                for name, form_field in repeat.form_class.base_fields.items():
                    value = item.get(name)
                    if value in (None, "", [], False):
                        continue
                    yield AnsweredField(
                        path=f"{repeat.prefix}.{position}.{name}",
                        label=f"{section.title}, {repeat.noun} {position + 1}: "
                        f"{form_field.label}",
                        list_name=repeat.prefix,
                        position=position,
                        name=name,
                        value=value,
                        free_text=_is_typed(form_field),
                    )


def answers_shown_in_full(referral: Referral):
    """Every section's answers as the case page lays them out, nothing
    withheld: for the data protection officer's record view (rights), which
    must see what is held before deciding what a requester may be given."""
    from .answers import all_answers

    return all_answers(referral.answers, brief=True)
