"""The period the board's figures cover: whole calendar months, local time.

A period runs from the first day of its first month to the end of its last
month (Europe/London), so a referral submitted at 23:30 on 31 March in
summer time counts in March, as the person who sent it would expect.
"""

from dataclasses import dataclass
from datetime import date, datetime, time

from django.utils import timezone

# More months than this make the month-by-month chart unreadable; three years
# covers any board's look back.
LONGEST_MONTHS = 36


def month_start(value: date) -> date:
    return value.replace(day=1)


def months_after(value: date, months: int) -> date:
    index = value.year * 12 + value.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    first: date  # the first day of the first month
    last: date  # the first day of the last month

    def __post_init__(self):
        if self.first.day != 1 or self.last.day != 1 or self.last < self.first:
            raise ValueError("A period is whole months, the first before the last")

    @property
    def end_date(self) -> date:
        """The first day after the period."""
        return months_after(self.last, 1)

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.first, time.min))

    @property
    def end(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end_date, time.min))

    @property
    def months(self) -> list[date]:
        count = (self.last.year - self.first.year) * 12 + (
            self.last.month - self.first.month
        )
        return [months_after(self.first, n) for n in range(count + 1)]

    @property
    def label(self) -> str:
        if self.first == self.last:
            return month_label(self.first)
        return f"{month_label(self.first)} to {month_label(self.last)}"

    @property
    def slug(self) -> str:
        return f"{self.first:%Y-%m}-to-{self.last:%Y-%m}"


def month_label(value: date) -> str:
    return f"{value:%B %Y}"


def last_twelve_months(today: date | None = None) -> Period:
    """The twelve months up to and including this one."""
    this_month = month_start(today or timezone.localdate())
    return Period(months_after(this_month, -11), this_month)


def last_quarter(today: date | None = None) -> Period:
    """The last whole calendar quarter before today's (January to March, ...)."""
    today = today or timezone.localdate()
    quarter_first = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    first = months_after(quarter_first, -3)
    return Period(first, months_after(first, 2))


PRESETS = {
    "last-quarter": ("Last quarter", last_quarter),
    "last-12-months": ("Last 12 months", last_twelve_months),
}
