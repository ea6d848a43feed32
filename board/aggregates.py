"""SQL the board's figures need that Django's ORM does not spell the same way
on both databases: a JSON list holding a value, the whole microseconds
between two times, and order statistics (a median and a percentile).

PostgreSQL, the production database, picks every order statistic in one
query with ordered-set aggregates; other databases (SQLite, for development
and tests) in one query per figure with window functions, after a count.
Both pick the same rows: tests/board/test_aggregates.py runs both ways on
crafted data and compares them with the Python definitions in
``board.figures``.
"""

import math
from dataclasses import dataclass

from django.db import connection
from django.db.models import (
    Aggregate,
    BigIntegerField,
    BooleanField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Func,
    Window,
)
from django.db.models.functions import RowNumber
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


class _PercentileDisc(Aggregate):
    """PostgreSQL's nearest-rank percentile: the value at position
    ceil(share * count) in the order, the same rank ``figures.percentile``
    takes. Ordered the other way, its median is the upper middle value."""

    function = "PERCENTILE_DISC"
    template = (
        "%(function)s(%(share)s) WITHIN GROUP (ORDER BY %(expressions)s %(direction)s)"
    )
    output_field = BigIntegerField()

    def __init__(self, expression, *, share: float, descending: bool = False):
        super().__init__(
            expression, share=repr(float(share)), direction="DESC" if descending
            else "ASC",
        )  # fmt: skip


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
    """1-based ranks of the lower and upper middle and the 90th percentile."""
    return (count + 1) // 2, count // 2 + 1, max(math.ceil(P90 * count), 1)


def order_statistics(queryset, columns: dict, *, vendor: str = "") -> dict:
    """The ``Picked`` values of each named integer expression over the
    queryset's rows, NULLs left out. A constant number of queries whatever
    the rows. (The expressions go into each aggregate as they are: Django
    drops annotated subqueries when it aggregates over them.)"""
    vendor = vendor or connection.vendor
    if vendor == "postgresql":
        return _ordered_set(queryset, columns)
    return _windowed(queryset, columns)


def _ordered_set(queryset, columns: dict) -> dict:
    aggregates = {}
    for name, column in columns.items():
        aggregates |= {
            f"{name}__count": Count(column),
            f"{name}__lower": _PercentileDisc(column, share=0.5),
            f"{name}__upper": _PercentileDisc(column, share=0.5, descending=True),
            f"{name}__p90": _PercentileDisc(column, share=P90),
        }
    row = queryset.aggregate(**aggregates)
    return {
        name: Picked(row[f"{name}__count"], row[f"{name}__lower"],
                     row[f"{name}__upper"], row[f"{name}__p90"])
        for name in columns
    }  # fmt: skip


def _windowed(queryset, columns: dict) -> dict:
    counts = queryset.aggregate(
        **{name: Count(column) for name, column in columns.items()}
    )
    picked = {}
    for name, column in columns.items():
        count = counts[name]
        if not count:
            picked[name] = Picked(0)
            continue
        wanted = positions(count)
        rows = dict(
            queryset.annotate(value=column)
            .filter(value__isnull=False)
            .annotate(rank=Window(RowNumber(), order_by=[F("value").asc(), F("pk")]))
            .filter(rank__in=sorted(set(wanted)))
            .values_list("rank", "value")
        )
        picked[name] = Picked(count, *(rows[rank] for rank in wanted))
    return picked
