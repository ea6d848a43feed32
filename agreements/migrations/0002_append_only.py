"""Published versions and acknowledgements never change once written."""

from django.db import migrations

from audit.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0001_initial"),
        ("audit", "0002_append_only_triggers"),
    ]

    operations = [
        append_only("agreements_agreementversion"),
        append_only("agreements_acknowledgement"),
    ]
