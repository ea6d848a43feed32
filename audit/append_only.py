"""Database triggers that make a table append-only, on PostgreSQL and SQLite.

Used by the audit log and by every other record that must never change once
written (agreement versions, acknowledgements). Triggers are named
``<table>_append_only_<op>`` so tests can find and suspend them all.
"""

from django.db import migrations

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION append_only_refuse() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'Table % is append-only: % is not allowed', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql;
"""


def _forward(table: str):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(_PG_FUNCTION, params=None)
            for op, level in (
                ("update", "ROW"),
                ("delete", "ROW"),
                ("truncate", "STATEMENT"),
            ):
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_append_only_{op} BEFORE {op.upper()} "
                    f"ON {table} FOR EACH {level} "
                    "EXECUTE FUNCTION append_only_refuse();",
                    params=None,
                )
        elif vendor == "sqlite":
            for op in ("update", "delete"):
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_append_only_{op} BEFORE {op.upper()} "
                    f"ON {table} BEGIN SELECT RAISE(ABORT, 'Table {table} is "
                    f"append-only: {op.upper()} is not allowed'); END;"
                )

    return run


def _backward(table: str):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for op in ("update", "delete", "truncate"):
            if vendor == "postgresql":
                schema_editor.execute(
                    f"DROP TRIGGER IF EXISTS {table}_append_only_{op} ON {table};",
                    params=None,
                )
            elif vendor == "sqlite":
                schema_editor.execute(
                    f"DROP TRIGGER IF EXISTS {table}_append_only_{op};"
                )

    return run


def append_only(table: str) -> migrations.RunPython:
    """A migration operation that makes ``table`` refuse UPDATE and DELETE."""
    return migrations.RunPython(_forward(table), _backward(table))


def append_only_lifted(table: str) -> migrations.RunPython:
    """The reverse: drop the triggers before a schema change that rebuilds the
    table (SQLite adds a NOT NULL column by copying the table, and the copy has
    no triggers). Follow the change with ``append_only(table)``."""
    return migrations.RunPython(_backward(table), _forward(table))
