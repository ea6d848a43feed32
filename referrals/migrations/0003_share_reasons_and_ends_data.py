"""Give the shares made before reasons and ends existed a reason and an end.

Every such share came from a meeting invitation ("On the agenda of a CMARAC
meeting it is invited to"): it becomes "holds information relevant to the
case", granted through a meeting, ending the standard period after this
migration runs, so nobody loses access on the day of the upgrade; the daily
``end_expired_referral_shares`` job ends it after that, and at its first run
ends those left on cases already closed (docs/features.md).
"""

from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def forwards(apps, schema_editor):
    ReferralShare = apps.get_model("referrals", "ReferralShare")
    ends_at = timezone.now() + timedelta(days=settings.REFERRAL_SHARE_DAYS)
    ReferralShare.objects.filter(ends_at__isnull=True).update(
        reason="information", via_meeting=True, ends_at=ends_at
    )


def backwards(apps, schema_editor):
    ReferralShare = apps.get_model("referrals", "ReferralShare")
    # The old table kept one row per organisation and no history.
    ReferralShare.objects.exclude(ended_at__isnull=True).delete()
    ReferralShare.objects.update(
        reason="On the agenda of a CMARAC meeting it is invited to"
    )


class Migration(migrations.Migration):
    dependencies = [("referrals", "0002_share_reasons_and_ends")]

    operations = [migrations.RunPython(forwards, backwards)]
