"""Keep meeting packs current when a case on an issued agenda changes.

Referrals know nothing of meetings (dependencies point one way), so the
meetings app listens for a referral being saved instead.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from referrals.models import Referral

from .models import Meeting, MeetingStatus


@receiver(post_save, sender=Referral, dispatch_uid="meetings.referral_saved")
def rebuild_packs_for_referral(sender, instance, created, **kwargs):
    if created:
        return
    from .services import packs_outdated

    for meeting in Meeting.objects.filter(
        agenda_items__referral=instance, status=MeetingStatus.PAPERS_ISSUED
    ).distinct():
        packs_outdated(meeting)
