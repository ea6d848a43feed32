"""Repeat referrals: the one rule, and the stored flag it sets.

A referral is a repeat when a person in it has the same name key (letters
only, lower case, words sorted: ``models.name_key``) and date of birth as a
person in another referral submitted in the 365 days before it. People
without a date of birth are never matched. ``earlier_namesakes`` is the only
place the rule is written: the case page's list of earlier referrals
(``selectors.earlier_referrals``) asks it for one referral's people, and
``repeat_flags_set`` asks it, in one set-based statement, for any number of
referrals.

``Referral.is_repeat`` keeps the answer as it was at submission, set in the
submitting transaction, so the board counts a column instead of running the
rule for every referral of the period (docs/features.md, "Board
statistics"). What changes it afterwards:

- correcting a person's name or date of birth (``referral_amend``): the old
  value was wrong, so the flag worked out from it was wrong too. The flag of
  the corrected referral, and of later referrals (up to 12 months later)
  naming the person as before or after the correction, is worked out again
  from the records as they stand (``repeat_flags_correct``), so an earlier
  referral already disposed of no longer counts for these;
- nothing else. Disposing of or erasing the earlier referral leaves the
  later one a repeat: it was one when it was submitted, and the board counts
  "repeat referrals within 12 months" as at submission. (The case page's
  list shows only the earlier referrals that still exist.)

The functions take the models from the queryset they are given, so the
migration that back-fills the flag (0014) runs this same code on its
historical models.
"""

from datetime import date, timedelta

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q

REPEAT_WINDOW = timedelta(days=365)


def earlier_namesakes(people, *, name_key, date_of_birth, referral_id, submitted_at):
    """The people, among ``people`` (a ReferralPerson queryset), who match a
    person with this name key and date of birth named in the referral
    ``referral_id`` submitted at ``submitted_at``: the same name key and date
    of birth, in another referral submitted in the 12 months before it.

    The arguments are values (one known person) or ``OuterRef`` expressions
    (each person of an outer query): the same filter either way.
    """
    return people.filter(
        name_key=name_key,
        # ``date_of_birth=None`` would match people without one (IS NULL).
        date_of_birth=date_of_birth,
        date_of_birth__isnull=False,
        referral__submitted_at__lt=submitted_at,
        referral__submitted_at__gte=submitted_at - REPEAT_WINDOW,
    ).exclude(referral_id=referral_id)


def _people_model(referrals):
    return referrals.model._meta.get_field("people").related_model


def repeat_referral_ids(referrals):
    """The ids of the referrals, among ``referrals``, that the rule makes
    repeats, as a subquery. PostgreSQL runs the ``EXISTS`` in a ``WHERE`` as
    a semi-join (hash or index), not once per row as it must inside an
    aggregate's ``FILTER``."""
    people = _people_model(referrals)._default_manager
    later = people.filter(referral__in=referrals.values("pk"))
    return (
        later.filter(
            Exists(
                earlier_namesakes(
                    people.all(),
                    name_key=OuterRef("name_key"),
                    date_of_birth=OuterRef("date_of_birth"),
                    referral_id=OuterRef("referral_id"),
                    submitted_at=OuterRef("referral__submitted_at"),
                )
            )
        )
        .values("referral_id")
        .order_by()
    )


def repeat_flags_set(*, referrals) -> int:
    """Set ``is_repeat`` on every referral in ``referrals`` from the rule, in
    one UPDATE whatever their number (the subquery is worked out once);
    returns how many rows it wrote. Callers hold the transaction: the
    submission, a correction, the back-fill, the bench loader."""
    is_repeat = ExpressionWrapper(
        Q(pk__in=repeat_referral_ids(referrals)), output_field=BooleanField()
    )
    return referrals.update(is_repeat=is_repeat)


def repeat_flags_correct(*, referral, identities: list[tuple[str, date | None]]) -> int:
    """After a correction to a person's name or date of birth in
    ``referral``: work out again the flag of the referral and of each
    referral submitted in the 12 months after it that names a person with
    one of ``identities`` (name key, date of birth: before and after the
    correction). Later referrals naming neither keep their flag."""
    people = _people_model(type(referral)._default_manager.all())._default_manager
    named = Q()
    for key, born in identities:
        if born is not None:
            named |= Q(name_key=key, date_of_birth=born)
    affected = Q(pk=referral.pk)
    if named:
        # The rule's window seen from the earlier side: only these can have
        # gained or lost this referral as their earlier one.
        later = people.filter(
            named,
            referral__submitted_at__gt=referral.submitted_at,
            referral__submitted_at__lte=referral.submitted_at + REPEAT_WINDOW,
        )
        affected |= Q(pk__in=later.values("referral_id"))
    return repeat_flags_set(referrals=type(referral)._default_manager.filter(affected))
