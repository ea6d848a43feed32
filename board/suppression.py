"""Small-number suppression: the one rule for every figure the board sees
(docs/features.md, "Board statistics").

Primary suppression: a count from 1 to 4 is shown as "fewer than 5". Zero is
shown as 0: it names nobody, and hiding it would make every empty month look
like a small one (the practice of the ONS and NHS England's statistics).

Secondary suppression: a table's totals are sums, and a sum with exactly one
hidden part gives that part away (total minus the parts shown). So every
line of the table that adds up (each row with its row total, each column
with its column total, the row totals with the grand total, the column totals
with the grand total) must hide none or at least two of its members. Where a
line hides exactly one, the smallest non-zero count shown on that line is
withheld too (a count inside the table before a total), and the lines are
checked again until none hides exactly one. A total that is itself under 5
is suppressed like any count.

Withheld counts are marked "withheld", not "fewer than 5": they may be large,
and the label must stay true. The value of a hidden cell is dropped here,
so no template, chart or export can show it by mistake.
"""

from dataclasses import dataclass
from enum import StrEnum

# Counts from 1 up to (not including) this are hidden.
THRESHOLD = 5
FEWER_THAN = f"fewer than {THRESHOLD}"
WITHHELD = "withheld"


class Hidden(StrEnum):
    NO = ""
    SMALL = "small"  # primary: 1 to 4
    WITHHELD = "withheld"  # secondary: would let a total give a small count away


@dataclass(frozen=True)
class Cell:
    """One figure as it may be shown: ``value`` is None when it is hidden."""

    value: int | None
    hidden: Hidden = Hidden.NO

    @property
    def shown(self) -> bool:
        return self.hidden == Hidden.NO

    @property
    def text(self) -> str:
        if self.hidden == Hidden.SMALL:
            return FEWER_THAN
        if self.hidden == Hidden.WITHHELD:
            return WITHHELD
        return f"{self.value:,}"

    def __str__(self):
        return self.text


def is_small(value: int) -> bool:
    return 0 < value < THRESHOLD


def cell(value: int) -> Cell:
    """A count on its own (no total beside it): primary suppression only."""
    return Cell(None, Hidden.SMALL) if is_small(value) else Cell(value)


@dataclass(frozen=True)
class Table:
    """A table of counts after suppression, ready to show."""

    title: str
    row_labels: list[str]
    column_labels: list[str]
    cells: list[list[Cell]]
    row_totals: list[Cell] | None = None
    column_totals: list[Cell] | None = None
    grand_total: Cell | None = None

    @property
    def rows(self) -> list[tuple[str, list[Cell], Cell | None]]:
        totals = self.row_totals or [None] * len(self.row_labels)
        return list(zip(self.row_labels, self.cells, totals, strict=True))

    @property
    def any_hidden(self) -> bool:
        every = [c for row in self.cells for c in row]
        every += list(self.row_totals or []) + list(self.column_totals or [])
        every += [self.grand_total] if self.grand_total else []
        return any(not c.shown for c in every)

    def column(self, index: int = 0) -> list[Cell]:
        return [row[index] for row in self.cells]


# Positions in the grid: (row, column); TOTAL stands for a total's row or column.
TOTAL = -1


def table_suppress(
    title: str,
    row_labels: list[str],
    column_labels: list[str],
    counts: list[list[int]],
    *,
    row_totals: bool = False,
    column_totals: bool = False,
) -> Table:
    """Suppress ``counts`` (a row per label, a count per column) and the
    totals asked for, so that no small count can be read or worked out."""
    n_rows, n_columns = len(row_labels), len(column_labels)
    if len(counts) != n_rows or any(len(row) != n_columns for row in counts):
        raise ValueError("counts must have a row per label and a count per column")
    values: dict[tuple[int, int], int] = {}
    for r, row in enumerate(counts):
        for c, value in enumerate(row):
            if value < 0:
                raise ValueError("counts cannot be negative")
            values[(r, c)] = value
    lines: list[list[tuple[int, int]]] = []
    if row_totals:
        for r in range(n_rows):
            values[(r, TOTAL)] = sum(counts[r])
            lines.append([(r, c) for c in range(n_columns)] + [(r, TOTAL)])
    if column_totals:
        for c in range(n_columns):
            values[(TOTAL, c)] = sum(row[c] for row in counts)
            lines.append([(r, c) for r in range(n_rows)] + [(TOTAL, c)])
    if row_totals and column_totals:
        values[(TOTAL, TOTAL)] = sum(map(sum, counts))
        lines.append([(r, TOTAL) for r in range(n_rows)] + [(TOTAL, TOTAL)])
        lines.append([(TOTAL, c) for c in range(n_columns)] + [(TOTAL, TOTAL)])
    hidden = _hide(values, lines)

    def shown(position) -> Cell:
        state = hidden[position]
        return Cell(None, state) if state != Hidden.NO else Cell(values[position])

    return Table(
        title=title,
        row_labels=list(row_labels),
        column_labels=list(column_labels),
        cells=[[shown((r, c)) for c in range(n_columns)] for r in range(n_rows)],
        row_totals=[shown((r, TOTAL)) for r in range(n_rows)] if row_totals else None,
        column_totals=(
            [shown((TOTAL, c)) for c in range(n_columns)] if column_totals else None
        ),
        grand_total=shown((TOTAL, TOTAL)) if row_totals and column_totals else None,
    )


def series_suppress(
    title: str, labels: list[str], counts: list[int], *, column: str = "Count",
    total: bool = True,
) -> Table:  # fmt: skip
    """One count per label, with their total (when the labels do not overlap)."""
    return table_suppress(
        title, labels, [column], [[count] for count in counts], column_totals=total
    )


def _hide(values: dict, lines: list[list]) -> dict:
    hidden = {p: Hidden.SMALL if is_small(v) else Hidden.NO for p, v in values.items()}
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(hidden[p] != Hidden.NO for p in line) != 1:
                continue
            candidates = [p for p in line if hidden[p] == Hidden.NO]
            if not candidates:
                continue
            # The least information lost: a non-zero count inside the table
            # before a total, the smallest first, then the first in order. A
            # zero is hidden only when nothing else is left (it protects
            # nothing, since people know a hidden count is not zero).
            pick = min(
                candidates,
                key=lambda p: (values[p] == 0, TOTAL in p, values[p], p),
            )
            hidden[pick] = Hidden.WITHHELD
            changed = True
    return hidden
