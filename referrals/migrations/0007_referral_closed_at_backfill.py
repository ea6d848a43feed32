"""Closed, declined and redirected referrals get the time they reached that
status: from their history where it records the step, else the time their
status last changed."""

from django.db import migrations

CLOSING = ("closed", "declined", "redirected")


def backfill(apps, schema_editor):
    Referral = apps.get_model("referrals", "Referral")
    ReferralEvent = apps.get_model("referrals", "ReferralEvent")
    for referral in Referral.objects.filter(
        status__in=CLOSING, closed_at__isnull=True
    ).iterator():
        step = (
            ReferralEvent.objects.filter(referral=referral, to_status=referral.status)
            .order_by("-at")
            .first()
        )
        referral.closed_at = step.at if step else referral.status_changed_at
        referral.save(update_fields=["closed_at"])


class Migration(migrations.Migration):
    dependencies = [("referrals", "0006_referral_closed_at")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
