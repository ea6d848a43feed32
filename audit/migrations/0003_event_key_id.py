"""Which key signed each event's HMAC (docs/audit.md).

Existing events keep an empty key id: their hash stays the plain SHA-256 it was
when written, and verify_audit checks it that way. The triggers are lifted for
the column's addition only, because SQLite adds it by copying the table, and
the copy would otherwise be left without them.
"""

from django.db import migrations, models

from audit.append_only import append_only, append_only_lifted


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers")]

    operations = [
        append_only_lifted("audit_auditevent"),
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(blank=True, max_length=16),
        ),
        append_only("audit_auditevent"),
    ]
