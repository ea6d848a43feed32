"""Sealed segments of the audit log (audit.segments, docs/audit.md).

Events may now leave the table, but only one way: an event may be deleted only
while a segment record covers its id, and a segment record is written only by
``audit_seal`` after the events are safely in a signed file. Everything else
still refuses UPDATE and DELETE. Segment records themselves cannot be deleted,
and only their ``file_destroyed_at`` may be set, once.
"""

from django.db import migrations, models

EVENTS = "audit_auditevent"
SEGMENTS = "audit_auditsegment"
# Every signed field of a segment record: none may change.
SIGNED = (
    "sealed_at, first_id, last_id, events, first_at, last_at, "
    "first_previous_hash, last_hash, first_keyed_id, file_name, sha256, "
    "key_id, signature"
)
# An event may go only while a segment record covers it.
COVERED = (
    "EXISTS (SELECT 1 FROM audit_auditsegment s "
    "WHERE OLD.id BETWEEN s.first_id AND s.last_id)"
)
REFUSE = "Table {table} is append-only: {op} is not allowed"

_PG_SEALED_DELETE = f"""
CREATE OR REPLACE FUNCTION audit_event_delete_if_sealed() RETURNS trigger AS $$
BEGIN
    IF {COVERED} THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'Table % is append-only: % is not allowed (events leave '
        'only when sealed: manage.py audit_seal)', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql;
"""


def _sqlite_refuse(table: str, op: str) -> str:
    message = REFUSE.format(table=table, op=op)
    return f"BEGIN SELECT RAISE(ABORT, '{message}'); END;"


def forward(apps, schema_editor):
    run = schema_editor.execute
    if schema_editor.connection.vendor == "postgresql":
        run(_PG_SEALED_DELETE, params=None)
        run(
            f"CREATE TRIGGER {EVENTS}_append_only_delete BEFORE DELETE ON {EVENTS} "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_delete_if_sealed();",
            params=None,
        )
        # append_only_refuse() comes from the migration that made the events
        # append-only (audit.append_only).
        for name, when in (
            ("delete", f"BEFORE DELETE ON {SEGMENTS} FOR EACH ROW"),
            ("truncate", f"BEFORE TRUNCATE ON {SEGMENTS} FOR EACH STATEMENT"),
            ("update", f"BEFORE UPDATE OF {SIGNED} ON {SEGMENTS} FOR EACH ROW"),
            (
                "undestroy",
                f"BEFORE UPDATE ON {SEGMENTS} FOR EACH ROW "
                "WHEN (OLD.file_destroyed_at IS NOT NULL)",
            ),
        ):
            run(
                f"CREATE TRIGGER {SEGMENTS}_append_only_{name} {when} "
                "EXECUTE FUNCTION append_only_refuse();",
                params=None,
            )
    elif schema_editor.connection.vendor == "sqlite":
        run(
            f"CREATE TRIGGER {EVENTS}_append_only_delete BEFORE DELETE ON {EVENTS} "
            f"WHEN NOT {COVERED} " + _sqlite_refuse(EVENTS, "DELETE")
        )
        for name, when, op in (
            ("delete", f"BEFORE DELETE ON {SEGMENTS}", "DELETE"),
            ("update", f"BEFORE UPDATE OF {SIGNED} ON {SEGMENTS}", "UPDATE"),
            (
                "undestroy",
                f"BEFORE UPDATE ON {SEGMENTS} WHEN OLD.file_destroyed_at IS NOT NULL",
                "UPDATE",
            ),
        ):
            run(
                f"CREATE TRIGGER {SEGMENTS}_append_only_{name} {when} "
                + _sqlite_refuse(SEGMENTS, op)
            )


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for name in ("delete", "truncate", "update", "undestroy"):
        if vendor == "postgresql":
            schema_editor.execute(
                f"DROP TRIGGER IF EXISTS {SEGMENTS}_append_only_{name} ON {SEGMENTS};",
                params=None,
            )
        elif vendor == "sqlite":
            schema_editor.execute(
                f"DROP TRIGGER IF EXISTS {SEGMENTS}_append_only_{name};"
            )
    _drop_event_delete_trigger(apps, schema_editor)
    if vendor == "postgresql":
        schema_editor.execute(
            "DROP FUNCTION IF EXISTS audit_event_delete_if_sealed();", params=None
        )


def _drop_event_delete_trigger(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS {EVENTS}_append_only_delete ON {EVENTS};",
            params=None,
        )
    elif vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {EVENTS}_append_only_delete;")


def _restore_event_delete_trigger(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f"CREATE TRIGGER {EVENTS}_append_only_delete BEFORE DELETE ON {EVENTS} "
            "FOR EACH ROW EXECUTE FUNCTION append_only_refuse();",
            params=None,
        )
    elif vendor == "sqlite":
        schema_editor.execute(
            f"CREATE TRIGGER {EVENTS}_append_only_delete BEFORE DELETE ON {EVENTS} "
            + _sqlite_refuse(EVENTS, "DELETE")
        )


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_event_key_id"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditSegment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("sealed_at", models.DateTimeField()),
                ("first_id", models.BigIntegerField(unique=True)),
                ("last_id", models.BigIntegerField(unique=True)),
                ("events", models.PositiveIntegerField()),
                ("first_at", models.DateTimeField()),
                ("last_at", models.DateTimeField()),
                ("first_previous_hash", models.CharField(max_length=64)),
                ("last_hash", models.CharField(max_length=64)),
                ("first_keyed_id", models.BigIntegerField(blank=True, null=True)),
                ("file_name", models.CharField(max_length=255)),
                ("sha256", models.CharField(max_length=64)),
                ("key_id", models.CharField(max_length=16)),
                ("signature", models.CharField(max_length=64)),
                ("file_destroyed_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "ordering": ["first_id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("last_id__gte", models.F("first_id"))),
                        name="audit_segment_ids_in_order",
                    )
                ],
            },
        ),
        # Replace the events' DELETE trigger (the others stay as they were).
        migrations.RunPython(_drop_event_delete_trigger, _restore_event_delete_trigger),
        migrations.RunPython(forward, backward),
    ]
