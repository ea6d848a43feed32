"""Make the audit table append-only: even a bug or a stray shell session cannot
edit or delete an event. The hash chain (verify_audit) catches anything done
around the triggers."""

from django.db import migrations

from audit.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [append_only("audit_auditevent")]
