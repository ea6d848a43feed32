"""Existing referrals get their repeat flag from the rule, in one set-based
UPDATE (``referrals.repeats.repeat_flags_set``, the code the submission
runs, on the historical models)."""

from django.db import migrations

from referrals.repeats import repeat_flags_set


def backfill(apps, schema_editor):
    Referral = apps.get_model("referrals", "Referral")
    repeat_flags_set(referrals=Referral.objects.all())


class Migration(migrations.Migration):
    dependencies = [("referrals", "0013_referral_is_repeat")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
