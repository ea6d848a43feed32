from django.db import migrations, models

from audit.append_only import append_only


def tombstones_append_only_again(apps, schema_editor):
    """SQLite adds a column by rebuilding the table, and the append-only
    triggers go with the old one: put them back. PostgreSQL keeps them."""
    if schema_editor.connection.vendor != "sqlite":
        return
    for op in ("update", "delete"):
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS referrals_tombstone_append_only_{op};"
        )
    append_only("referrals_tombstone").code(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0009_case_restriction_and_referral_amendment"),
    ]

    operations = [
        migrations.AddField(
            model_name="tombstone",
            name="reason",
            field=models.CharField(
                choices=[
                    ("retention", "Retention period"),
                    ("erasure", "Erasure request"),
                ],
                default="retention",
                max_length=10,
            ),
        ),
        migrations.RunPython(tombstones_append_only_again, migrations.RunPython.noop),
    ]
