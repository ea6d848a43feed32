"""What the referrals app does when something it builds on changes.

An organisation a new ISA version drops may no longer see case material: its
shares of every case end when the version is published (docs/features.md).
"""

from django.dispatch import receiver

from agreements.signals import organisations_dropped

from .models import ReferralShare


@receiver(organisations_dropped, dispatch_uid="referrals.shares_end_on_isa_drop")
def shares_end_when_dropped(sender, version, organisation_ids, **kwargs):
    from .services import referral_shares_end

    referral_shares_end(
        shares=ReferralShare.objects.filter(organisation_id__in=organisation_ids),
        reason=f"No longer a party to the information sharing agreement "
        f"({version.reference} version {version.number})",
    )
