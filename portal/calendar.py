"""Working days: the one place that knows which days count.

Monday to Friday are working days; bank holidays are not known here. Agenda
deadlines, minutes due dates and the demo and benchmark meeting days all
count with these functions, so a rule about which days count changes here.
"""

from datetime import date, timedelta

# date.weekday(): Monday is 0, Saturday 5.
_FIRST_WEEKEND_DAY = 5


def is_working_day(day: date) -> bool:
    return day.weekday() < _FIRST_WEEKEND_DAY


def working_days_after(day: date, days: int) -> date:
    """``days`` working days after ``day``; before it if ``days`` is negative."""
    step = timedelta(days=1 if days >= 0 else -1)
    current, left = day, abs(days)
    while left:
        current += step
        if is_working_day(current):
            left -= 1
    return current


def working_days_before(day: date, days: int) -> date:
    return working_days_after(day, -days)


def working_day_on_or_after(day: date) -> date:
    """The day itself if it is a working day, otherwise the next one."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day
