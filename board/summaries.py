"""The sentence under each chart: what the picture shows, in words, from the
suppressed figures only (a hidden count is named as it is shown)."""

from .suppression import Table


def month_trend(table: Table, noun: str) -> str:
    """ "Referrals rose from 12 in May 2026 to 19 in June 2026." """
    cells, labels = table.column(), table.row_labels
    total = table.column_totals[0].text if table.column_totals else ""
    in_all = f" {total} in all." if total else ""
    if len(cells) == 1:
        return f"{noun.capitalize()} in {labels[0]}: {cells[0].text}.{in_all}"
    (before, after), (was, now) = labels[-2:], cells[-2:]
    if was.shown and now.shown:
        if now.value > was.value:
            verb = "rose"
        elif now.value < was.value:
            verb = "fell"
        else:
            return (
                f"{noun.capitalize()} stayed at {now.text} in {before} and "
                f"{after}.{in_all}"
            )
        return (
            f"{noun.capitalize()} {verb} from {was.text} in {before} to "
            f"{now.text} in {after}.{in_all}"
        )
    return (
        f"{noun.capitalize()}: {was.text} in {before} and {now.text} in "
        f"{after}.{in_all}"
    )


def largest(table: Table, noun: str, column: int = 0) -> str:
    """ "The most referrals shown are from City Police: 14 of 40." """
    shown = [
        (cell.value, label)
        for label, cell in zip(table.row_labels, table.column(column), strict=True)
        if cell.shown and cell.value
    ]
    total = ""
    if table.column_totals and table.column_totals[column].shown:
        total = f" of {table.column_totals[column].text}"
    if not table.row_labels:
        return f"No {noun} in this period."
    if not shown:
        return f"Every count of {noun} here is under 5, withheld or 0."
    value, label = max(shown)
    return f"The largest count of {noun} shown is {label}: {value:,}{total}."
