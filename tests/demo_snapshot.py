"""The demo partnership loaded once per test process, put back for each module.

``seed_demo`` makes the same rows every time: about 4 s of CPU on SQLite,
more on PostgreSQL, and about twice that with the meeting packs. Thirteen
modules load it, each inside a transaction rolled back at its end
(tests/conftest.py, ``demo_seeded``). The first module in a process seeds it
for real; this module keeps what the seed changed, as raw rows, and puts the
same rows back for every later module in a fraction of a second, inside that
module's own transaction.

What is kept is the difference the seed made to the database: the rows it
added (with their ids) and the rows it changed or deleted (a Wagtail page's
child count, say), whole. Putting it back deletes the changed rows and
inserts the kept ones. It applies only to the state the seed started from,
so a module starting from anything else (a row count that differs from the
first seed's starting point) seeds again, and says why on stderr.

Files the seed stored (the demo's shared PDFs, meeting packs) are kept too,
and written back where a test deleted or replaced them.

SQLite's full-text table (Wagtail's search index, a virtual table) is left
alone: triggers on the index's own table keep it in step.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

# PostgreSQL's type codes for json and jsonb: their values come back as Python
# objects and go back wrapped, so psycopg sends them as JSON again.
JSON_TYPES = {114, 3802}


def json_columns(connection, description) -> list[int]:
    """Where a row read with ``description`` holds JSON (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return []
    return [i for i, column in enumerate(description) if column[1] in JSON_TYPES]


def rows_insert(cursor, quoted: str, columns: list[str], json_at, rows) -> None:
    """Insert raw rows as they were read, in one statement."""
    if json_at:
        from psycopg.types.json import Jsonb

        rows = [
            tuple(
                Jsonb(v) if i in json_at and v is not None else v
                for i, v in enumerate(row)
            )
            for row in rows
        ]
    ops = cursor.db.ops
    names = ", ".join(ops.quote_name(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    cursor.executemany(
        f"INSERT INTO {quoted} ({names}) VALUES ({marks})",  # noqa: S608
        rows,
    )


def _tables(connection) -> list[str]:
    """Every table worth keeping: Django's, less SQLite's virtual full-text
    table and its shadow tables, which triggers on the index fill."""
    names = connection.introspection.django_table_names(
        only_existing=True, include_views=False
    )
    virtual: tuple[str, ...] = ()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND sql LIKE 'CREATE VIRTUAL TABLE%%'"
            )
            virtual = tuple(row[0] for row in cursor.fetchall())
    return sorted(name for name in names if not name.startswith(virtual or ("\0",)))


@dataclass
class _Table:
    quoted: str
    columns: list[str]
    key: int  # the primary key's position in a row
    json_at: list[int]
    rows: dict  # primary key -> row


def _read(connection) -> dict[str, _Table]:
    tables = {}
    with connection.cursor() as cursor:
        for name in _tables(connection):
            quoted = connection.ops.quote_name(name)
            cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608
            rows = cursor.fetchall()
            columns = [column[0] for column in cursor.description]
            primary = connection.introspection.get_primary_key_column(cursor, name)
            key = columns.index(primary) if primary in columns else -1
            json_at = json_columns(connection, cursor.description)
            tables[name] = _Table(
                quoted,
                columns,
                key,
                json_at,
                {row[key] if key >= 0 else row: row for row in rows},
            )
    return tables


def _counts(connection, names) -> dict[str, int]:
    """Every table's row count, in one query."""
    if not names:
        return {}
    parts = [
        f"SELECT {i}, COUNT(*) FROM {connection.ops.quote_name(name)}"  # noqa: S608
        for i, name in enumerate(names)
    ]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts))
        by_index = dict(cursor.fetchall())
    return {name: by_index[i] for i, name in enumerate(names)}


def _files(root: Path) -> dict[str, tuple[int, int]]:
    if not root.exists():
        return {}
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in root.rglob("*")
        if path.is_file()
    }


@dataclass
class DemoSnapshot:
    """What one run of ``seed_demo`` changed, ready to be put back."""

    output: str
    counts_before: dict[str, int]
    # table -> (quoted name, columns, primary key position, JSON columns,
    # keys of rows to delete first, rows to insert)
    changes: list[tuple] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def around(cls, connection, media_root: Path, seed) -> DemoSnapshot:
        """Run ``seed()`` (which returns what it printed) and keep what it
        changed in the database and under ``media_root``."""
        before = _read(connection)
        files_before = _files(media_root)
        output = seed()
        after = _read(connection)
        snapshot = cls(
            output=output,
            counts_before={name: len(table.rows) for name, table in before.items()},
        )
        for name, table in after.items():
            old = before.get(name)
            old_rows = old.rows if old else {}
            if table.key < 0 and old_rows != table.rows:
                raise ValueError(f"{name} has no primary key and the seed changed it")
            gone = [key for key, row in old_rows.items() if table.rows.get(key) != row]
            new = [row for key, row in table.rows.items() if old_rows.get(key) != row]
            if gone or new:
                snapshot.changes.append(
                    (
                        name,
                        table.quoted,
                        table.columns,
                        table.key,
                        table.json_at,
                        gone,
                        new,
                    )
                )
        for relative, stamp in _files(media_root).items():
            if files_before.get(relative) != stamp:
                snapshot.files[relative] = (media_root / relative).read_bytes()
        return snapshot

    def fits(self, connection) -> str:
        """Why the snapshot cannot be put back on the database as it is now,
        or an empty string if it can."""
        names = _tables(connection)
        counts = _counts(connection, names)
        differ = sorted(
            name for name in names if counts[name] != self.counts_before.get(name, 0)
        )
        if differ:
            return "tables differ from the seed's starting point: " + ", ".join(
                differ[:5]
            )
        return ""

    def restore(self, connection, media_root: Path) -> None:
        touched = []
        with connection.cursor() as cursor:
            for name, quoted, columns, key, json_at, gone, new in self.changes:
                touched.append(name)
                key_name = connection.ops.quote_name(columns[key])
                if gone:
                    marks = ", ".join(["%s"] * len(gone))
                    cursor.execute(
                        f"DELETE FROM {quoted} WHERE {key_name} IN ({marks})",  # noqa: S608
                        gone,
                    )
                if new:
                    rows_insert(cursor, quoted, columns, json_at, new)
        if connection.vendor == "postgresql":
            _sequences_past_rows(connection, touched)
        for relative, content in self.files.items():
            path = media_root / relative
            if not path.exists() or path.read_bytes() != content:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)


def _sequences_past_rows(connection, tables) -> None:
    """PostgreSQL: move each touched table's id sequence past its rows (the
    kept rows carry their ids; SQLite's AUTOINCREMENT follows by itself)."""
    from django.apps import apps
    from django.core.management.color import no_style

    models = [m for m in apps.get_models() if m._meta.db_table in set(tables)]
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    if statements:
        with connection.cursor() as cursor:
            cursor.execute("\n".join(statements))


def demo_loaded(connection, media_root: Path, seed, kept: dict, key) -> str:
    """The demo in the database: put back from ``kept[key]`` if it fits,
    otherwise seeded by ``seed()`` and kept. Returns what the seed printed."""
    snapshot = kept.get(key)
    if snapshot is not None:
        why = snapshot.fits(connection)
        if not why:
            snapshot.restore(connection, media_root)
            return snapshot.output
        print(f"demo snapshot not used ({why}); seeding again", file=sys.stderr)
    kept[key] = DemoSnapshot.around(connection, media_root, seed)
    return kept[key].output
