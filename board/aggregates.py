"""SQL the board's figures need that Django's ORM does not spell the same way
on both databases: a JSON list holding a value, the whole microseconds
between two times, and order statistics (a median and a percentile).

PostgreSQL, the production database, picks every order statistic in one
query with ordered-set aggregates over a derived table; other databases
(SQLite, for development and tests) in one query per figure with window
functions.
Both pick the same rows: tests/board/test_aggregates.py runs both ways on
crafted data and compares them with the Python definitions in
``board.figures``.
"""

import math
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    BigIntegerField,
    BooleanField,
    DurationField,
    ExpressionWrapper,
    Func,
)
from django.db.utils import NotSupportedError

P90 = 0.9


class ListHolds(Func):
    """True when a JSON list (the first expression) holds the value (the
    second). Django's ``contains`` lookup on a JSONField is PostgreSQL-only."""

    output_field = BooleanField()
    conditional = True
    arity = 2

    def _parts(self, compiler):
        holder, holder_params = compiler.compile(self.source_expressions[0])
        value, value_params = compiler.compile(self.source_expressions[1])
        return holder, value, (*holder_params, *value_params)

    # One as_sql for every vendor: an aggregate's filter calls it directly.
    def as_sql(self, compiler, connection, **extra):
        holder, value, params = self._parts(compiler)
        if connection.vendor == "postgresql":
            return f"({holder} @> jsonb_build_array(({value})::text))", params
        if connection.vendor == "sqlite":
            # Compiled expressions with their own parameters, no input text.
            sql = f"EXISTS (SELECT 1 FROM json_each({holder}) AS held WHERE held.value = {value})"  # noqa: S608, E501
            return sql, params
        raise NotSupportedError("ListHolds supports PostgreSQL and SQLite only")


class _Microseconds(Func):
    """A duration as whole microseconds. SQLite's duration arithmetic (Django's
    ``django_timestamp_diff``) is in microseconds already; PostgreSQL's is an
    interval, whose epoch is an exact numeric since PostgreSQL 14."""

    output_field = BigIntegerField()
    arity = 1
    template = "%(expressions)s"

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint",
            **extra,
        )


def microseconds_between(end, start) -> _Microseconds:
    """``end - start`` in whole microseconds; NULL when either is NULL."""
    return _Microseconds(ExpressionWrapper(end - start, output_field=DurationField()))


@dataclass(frozen=True)
class Picked:
    """What a median and 90th percentile need from one column: how many
    values it has, the two middle ones (the same when the count is odd) and
    the nearest-rank 90th percentile. ``None`` when there are no values."""

    count: int
    lower_middle: int | None = None
    upper_middle: int | None = None
    p90: int | None = None


def positions(count: int) -> tuple[int, int, int]:
    """1-based ranks of the lower and upper middle and the 90th percentile:
    (count + 1) // 2, count // 2 + 1 and ceil(0.9 * count), which is
    (9 * count + 9) // 10 in integers (the same for every count below 20
    million, checked), as the window-function query works it out."""
    return (count + 1) // 2, count // 2 + 1, max(math.ceil(P90 * count), 1)


def order_statistics(queryset, columns: dict, *, vendor: str = "") -> dict:
    """The ``Picked`` values of each named integer expression over the
    queryset's rows, NULLs left out: one query on PostgreSQL, one per column
    elsewhere, whatever the rows. Each row's values are worked out once, in
    a derived table (as aggregate arguments, Django would repeat the
    expressions in every aggregate)."""
    inner = queryset.annotate(**columns).values(*columns)
    try:
        sql, params = inner.query.sql_with_params()
    except EmptyResultSet:  # a queryset Django knows to be empty (.none())
        return {name: Picked(0) for name in columns}
    if (vendor or connection.vendor) == "postgresql":
        return _ordered_set(sql, params, list(columns))
    return {name: _windowed(sql, params, name) for name in columns}


def _ordered_set(sql: str, params, names: list[str]) -> dict:
    """PERCENTILE_DISC(p) takes the value at rank ceil(p * count), the rank
    ``positions`` gives; ordered the other way, its median is the upper
    middle value."""
    selects = []
    for name in names:
        column = connection.ops.quote_name(name)
        selects += [
            f"COUNT({column})",
            f"PERCENTILE_DISC(0.5) WITHIN GROUP (ORDER BY {column} ASC)",
            f"PERCENTILE_DISC(0.5) WITHIN GROUP (ORDER BY {column} DESC)",
            f"PERCENTILE_DISC({P90!r}) WITHIN GROUP (ORDER BY {column} ASC)",
        ]
    # Our own column names around the ORM's compiled query and its params.
    query = f"SELECT {', '.join(selects)} FROM ({sql}) AS waits"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        row = cursor.fetchone()
    return {name: Picked(*row[4 * n : 4 * n + 4]) for n, name in enumerate(names)}


def _windowed(sql: str, params, name: str) -> Picked:
    """Portable SQL: number the values in order, keep the three ranks."""
    column = connection.ops.quote_name(name)
    # Our own column name around the ORM's compiled query and its params.
    query = (
        "SELECT total, position, value FROM ("  # noqa: S608
        f"SELECT {column} AS value, COUNT(*) OVER () AS total, "
        f"ROW_NUMBER() OVER (ORDER BY {column}) AS position "
        f"FROM ({sql}) AS waits WHERE {column} IS NOT NULL) AS ranked "
        "WHERE position IN ((total + 1) / 2, total / 2 + 1, (9 * total + 9) / 10)"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall()
    if not rows:
        return Picked(0)
    count = rows[0][0]
    values = {position: value for _, position, value in rows}
    return Picked(count, *(values[position] for position in positions(count)))
