"""Small-number suppression (board.suppression) on crafted tables: no count
from 1 to 4 can be read, or worked out from the totals shown."""

import itertools

import pytest

from board.suppression import (
    FEWER_THAN,
    WITHHELD,
    Cell,
    Hidden,
    cell,
    series_suppress,
    table_suppress,
)


def _texts(cells):
    return [c.text for c in cells]


def _grid(table):
    return [[c.text for c in row] for row in table.cells]


def _recoverable(table) -> list:
    """Every hidden cell a reader could work out: a line (row with its total,
    column with its total) that hides exactly one member."""
    lines = []
    if table.row_totals:
        lines += [
            row + [total]
            for row, total in zip(table.cells, table.row_totals, strict=True)
        ]
    if table.column_totals:
        columns = [list(col) for col in zip(*table.cells, strict=True)]
        lines += [
            col + [total]
            for col, total in zip(columns, table.column_totals, strict=True)
        ]
    if table.grand_total:
        lines.append(list(table.row_totals) + [table.grand_total])
        lines.append(list(table.column_totals) + [table.grand_total])
    return [line for line in lines if sum(not c.shown for c in line) == 1]


class TestPrimary:
    @pytest.mark.parametrize("value", [1, 2, 3, 4])
    def test_one_to_four_is_fewer_than_five(self, value):
        shown = cell(value)
        assert shown.text == FEWER_THAN == "fewer than 5"
        assert shown.value is None
        assert shown.hidden == Hidden.SMALL

    @pytest.mark.parametrize("value", [0, 5, 6, 1234])
    def test_zero_and_five_or_more_are_shown(self, value):
        assert cell(value) == Cell(value)

    def test_thousands_are_written_with_commas(self):
        assert cell(1234).text == "1,234"


class TestSecondary:
    def test_a_row_with_one_small_cell_and_a_total_hides_a_second_cell(self):
        table = table_suppress(
            "t", ["A"], ["x", "y", "z"], [[3, 9, 7]], row_totals=True
        )
        # 3 is small; 7 (the smallest other non-zero) is withheld; total shown.
        assert _grid(table) == [[FEWER_THAN, "9", WITHHELD]]
        assert table.row_totals[0].text == "19"
        assert _recoverable(table) == []

    def test_a_column_with_one_small_cell_and_a_total_hides_a_second_cell(self):
        table = series_suppress("t", ["Jan", "Feb", "Mar"], [12, 2, 6])
        assert _texts(table.column()) == ["12", FEWER_THAN, WITHHELD]
        assert table.column_totals[0].text == "20"
        assert _recoverable(table) == []

    def test_zeros_stay_shown_and_are_not_picked_while_a_count_is_left(self):
        table = series_suppress("t", ["a", "b", "c", "d"], [0, 4, 0, 8])
        assert _texts(table.column()) == ["0", FEWER_THAN, "0", WITHHELD]
        assert table.column_totals[0].text == "12"

    def test_without_a_total_nothing_more_is_hidden(self):
        table = series_suppress("t", ["a", "b"], [2, 9], total=False)
        assert _texts(table.column()) == [FEWER_THAN, "9"]
        assert table.column_totals is None

    def test_two_small_cells_in_a_line_protect_each_other(self):
        table = series_suppress("t", ["a", "b", "c"], [2, 3, 10])
        assert _texts(table.column()) == [FEWER_THAN, FEWER_THAN, "10"]
        assert table.column_totals[0].text == "15"

    def test_a_small_total_is_itself_hidden(self):
        table = series_suppress("t", ["a", "b"], [3, 0])
        assert _texts(table.column()) == [FEWER_THAN, "0"]
        assert table.column_totals[0].text == FEWER_THAN
        assert _recoverable(table) == []

    def test_rows_and_columns_both_hold_after_a_cascade(self):
        # One small cell: hiding its partner in the row leaves that partner's
        # column with one hidden cell, and so on; the loop settles.
        counts = [
            [2, 9, 12],
            [8, 6, 15],
            [7, 11, 5],
        ]
        table = table_suppress(
            "t", ["A", "B", "C"], ["x", "y", "z"], counts,
            row_totals=True, column_totals=True,
        )  # fmt: skip
        assert _recoverable(table) == []
        assert table.cells[0][0].text == FEWER_THAN
        hidden = [c for row in table.cells for c in row if not c.shown]
        assert len(hidden) >= 4  # a rectangle at least
        assert table.grand_total.text == "75"

    def test_a_row_total_under_five_is_protected_in_the_grand_total_line(self):
        counts = [[1, 2], [10, 20], [30, 6]]
        table = table_suppress(
            "t", ["A", "B", "C"], ["x", "y"], counts,
            row_totals=True, column_totals=True,
        )  # fmt: skip
        assert table.row_totals[0].text == FEWER_THAN
        assert _recoverable(table) == []
        # The other row totals: one more is withheld so the grand total (69)
        # minus the shown ones does not give row A's 3.
        assert sum(not c.shown for c in table.row_totals) >= 2

    def test_all_small(self):
        counts = [[1, 2], [3, 4]]
        table = table_suppress(
            "t", ["A", "B"], ["x", "y"], counts, row_totals=True, column_totals=True
        )
        assert all(c.text == FEWER_THAN for row in table.cells for c in row)
        assert _texts(table.row_totals) == [FEWER_THAN, WITHHELD]
        assert table.column_totals[0].text == FEWER_THAN
        assert _recoverable(table) == []
        assert table.grand_total.text == "10"

    def test_no_value_of_a_hidden_cell_is_kept(self):
        table = series_suppress("t", ["a", "b", "c"], [2, 30, 40])
        assert [c.value for c in table.column()] == [None, None, 40]

    def test_exhaustively_no_small_table_gives_a_count_away(self):
        """Every 2 by 2 table of counts 0, 1, 4, 5 and 9, with all totals."""
        for flat in itertools.product([0, 1, 4, 5, 9], repeat=4):
            counts = [list(flat[:2]), list(flat[2:])]
            table = table_suppress(
                "t", ["A", "B"], ["x", "y"], counts,
                row_totals=True, column_totals=True,
            )  # fmt: skip
            assert _recoverable(table) == [], counts
            shown = [c.value for row in table.cells for c in row if c.shown]
            assert not any(0 < v < 5 for v in shown), counts

    def test_counts_must_match_the_labels(self):
        with pytest.raises(ValueError):
            table_suppress("t", ["A"], ["x", "y"], [[1]])
        with pytest.raises(ValueError):
            table_suppress("t", ["A"], ["x"], [[-1]])
