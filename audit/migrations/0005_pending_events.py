"""Events recorded but not yet chained (audit.models.AuditPendingEvent).

Writers insert a pending row in their own transaction without the chain's lock;
a chainer moves pending rows into the chain in batches (docs/audit.md). The
pending table is append-only like the log, with one exception: a row may be
deleted once an event chained from it exists (AuditEvent.pending_id), which
the chainer writes in the same transaction. The new column on the events is
nullable, which SQLite adds in place: the log's triggers stay.
"""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

PENDING = "audit_auditpendingevent"
CHAINED = "EXISTS (SELECT 1 FROM audit_auditevent e WHERE e.pending_id = OLD.id)"

_PG_DELETE_IF_CHAINED = f"""
CREATE OR REPLACE FUNCTION audit_pending_delete_if_chained() RETURNS trigger AS $$
BEGIN
    IF {CHAINED} THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'Table % is append-only: % is not allowed (a pending event '
        'leaves only when chained)', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql;
"""


def forward(apps, schema_editor):
    run = schema_editor.execute
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        run(_PG_DELETE_IF_CHAINED, params=None)
        # append_only_refuse() comes from migration 0002 (audit.append_only).
        for name, when, function in (
            ("update", "BEFORE UPDATE", "append_only_refuse"),
            ("delete", "BEFORE DELETE", "audit_pending_delete_if_chained"),
        ):
            run(
                f"CREATE TRIGGER {PENDING}_append_only_{name} {when} ON {PENDING} "
                f"FOR EACH ROW EXECUTE FUNCTION {function}();",
                params=None,
            )
        run(
            f"CREATE TRIGGER {PENDING}_append_only_truncate BEFORE TRUNCATE ON "
            f"{PENDING} FOR EACH STATEMENT EXECUTE FUNCTION append_only_refuse();",
            params=None,
        )
    elif vendor == "sqlite":
        refuse = "SELECT RAISE(ABORT, 'Table {t} is append-only: {op} is not allowed')"
        run(
            f"CREATE TRIGGER {PENDING}_append_only_update BEFORE UPDATE ON {PENDING} "
            f"BEGIN {refuse.format(t=PENDING, op='UPDATE')}; END;"
        )
        run(
            f"CREATE TRIGGER {PENDING}_append_only_delete BEFORE DELETE ON {PENDING} "
            f"WHEN NOT {CHAINED} BEGIN {refuse.format(t=PENDING, op='DELETE')}; END;"
        )


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for name in ("update", "delete", "truncate"):
        if vendor == "postgresql":
            schema_editor.execute(
                f"DROP TRIGGER IF EXISTS {PENDING}_append_only_{name} ON {PENDING};",
                params=None,
            )
        elif vendor == "sqlite":
            schema_editor.execute(
                f"DROP TRIGGER IF EXISTS {PENDING}_append_only_{name};"
            )
    if vendor == "postgresql":
        schema_editor.execute(
            "DROP FUNCTION IF EXISTS audit_pending_delete_if_chained();", params=None
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_identity_provider"),
        ("audit", "0004_sealed_segments"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditPendingEvent",
            fields=[
                ("at", models.DateTimeField(db_index=True)),
                ("actor_label", models.CharField(blank=True, max_length=150)),
                ("organisation_label", models.CharField(blank=True, max_length=200)),
                ("action", models.CharField(db_index=True, max_length=80)),
                ("object_type", models.CharField(blank=True, max_length=100)),
                ("object_id", models.CharField(blank=True, max_length=64)),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("success", "Success"),
                            ("failure", "Failure"),
                            ("denied", "Denied"),
                        ],
                        default="success",
                        max_length=16,
                    ),
                ),
                ("ip_address", models.GenericIPAddressField(blank=True, null=True)),
                ("user_agent", models.CharField(blank=True, max_length=400)),
                ("detail", models.JSONField(blank=True, default=dict)),
                ("key_id", models.CharField(blank=True, max_length=16)),
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("signature", models.CharField(max_length=64)),
            ],
            options={
                "ordering": ["at", "id"],
            },
        ),
        migrations.AddField(
            model_name="auditevent",
            name="pending_id",
            field=models.UUIDField(blank=True, editable=False, null=True),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(
                condition=models.Q(("pending_id__isnull", False)),
                fields=("pending_id",),
                name="audit_event_chained_once",
            ),
        ),
        migrations.AddField(
            model_name="auditpendingevent",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="auditpendingevent",
            name="organisation",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="accounts.organisation",
            ),
        ),
        migrations.RunPython(forward, backward),
    ]
