"""Keep meeting packs current when something they show changes elsewhere.

Referrals and accounts know nothing of meetings (dependencies point one way),
so the meetings app listens for a referral, an organisation or a user being
saved instead. A download never checks that a pack is current: see
``services.packs_outdated``.
"""

from django.db.models import Q
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import Organisation, User
from agreements.signals import organisations_dropped
from referrals.models import CaseRestriction, Referral, ReferralFreeTextReview
from referrals.signals import case_amended, shares_kept_on_close

from .models import AgendaItem, Meeting


def _changes(update_fields, shown: set[str]) -> bool:
    """Whether a save may have changed any of the ``shown`` fields."""
    return update_fields is None or not shown.isdisjoint(update_fields)


def _outdated(meetings) -> None:
    from .services import packs_outdated_in

    packs_outdated_in(meetings)


@receiver(post_save, sender=Referral, dispatch_uid="meetings.referral_saved")
def rebuild_packs_for_referral(sender, instance, created, **kwargs):
    if created:
        return
    _outdated(Meeting.objects.filter(agenda_items__referral=instance))


@receiver(
    post_save, sender=ReferralFreeTextReview, dispatch_uid="meetings.review_saved"
)
def rebuild_packs_for_free_text_review(sender, instance, **kwargs):
    """Packs show the partner summary in place of the free text."""
    _outdated(Meeting.objects.filter(agenda_items__referral_id=instance.referral_id))


@receiver(post_save, sender=Organisation, dispatch_uid="meetings.organisation_saved")
def rebuild_packs_for_organisation(sender, instance, created, update_fields, **kwargs):
    """Packs name the organisation they are for, referring agencies and the
    agencies owning actions."""
    if created or not _changes(update_fields, {"name"}):
        return
    _outdated(
        Meeting.objects.filter(
            Q(agenda_items__invited=instance)
            | Q(agenda_items__referral__actions__owner=instance)
        )
    )


@receiver(post_save, sender=User, dispatch_uid="meetings.user_saved")
def rebuild_packs_for_chair(sender, instance, created, update_fields, **kwargs):
    """Packs name the chair. Sign-ins save only ``last_login`` and are skipped."""
    if created or not _changes(update_fields, {"first_name", "last_name", "username"}):
        return
    _outdated(Meeting.objects.filter(chair=instance))


@receiver(shares_kept_on_close, dispatch_uid="meetings.action_owners_keep_access")
def action_owners_keep_access(sender, referral, **kwargs) -> set[int]:
    """Organisations that own open actions keep access to a closing case until
    those actions are done (``services.action_update`` then ends it)."""
    from .services import open_action_owners

    return open_action_owners(referral)


@receiver(organisations_dropped, dispatch_uid="meetings.packs_delete_on_isa_drop")
def packs_delete_when_dropped(sender, version, organisation_ids, **kwargs):
    """An organisation a new ISA version drops loses its meeting packs."""
    from .services import packs_delete_for_organisations

    packs_delete_for_organisations(
        organisation_ids=organisation_ids,
        reason=f"No longer a party to {version.reference} version {version.number}",
    )


@receiver(post_save, sender=CaseRestriction, dispatch_uid="meetings.restriction_saved")
def rebuild_packs_for_restriction(sender, instance, **kwargs):
    """Packs leave a restricted case out, and take it back once lifted."""
    from .services import packs_rebuild_showing

    packs_rebuild_showing(instance.referral_id)


@receiver(case_amended, dispatch_uid="meetings.case_amended")
def packs_rebuild_on_amendment(sender, referral, amendment, **kwargs) -> set[int]:
    """A corrected answer reaches every stored pack that showed the old one
    (the save of the referral already rebuilds those of meetings whose papers
    are out and not yet held). Minutes are built on each download and show
    no answers, so they need nothing. Returns the organisations invited to
    the case at a meeting whose papers were issued: they received it."""
    from .selectors import VISIBLE_TO_AGENCIES
    from .services import packs_rebuild_showing

    packs_rebuild_showing(referral.pk, issued_too=False)
    return set(
        AgendaItem.invited.through.objects.filter(
            agendaitem__referral=referral,
            agendaitem__meeting__status__in=VISIBLE_TO_AGENCIES,
        ).values_list("organisation_id", flat=True)
    )
