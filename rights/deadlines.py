"""When a subject access request is due.

One calendar month from the day the clock starts (receipt, or identity
verification if later), to the same date in the next month or that month's
last day when it is shorter; when that falls on a weekend, the next working
day (``portal.calendar``, which does not know bank holidays). Extendable
once by up to two further months where the request is complex or one of
several.
https://ico.org.uk/for-organisations/uk-gdpr-guidance-and-resources/individual-rights/right-of-access/
"""

from datetime import date

from agreements.services import add_months
from portal.calendar import working_day_on_or_after

MAX_EXTENSION_MONTHS = 2


def sar_due_on(clock_starts_on: date, extension_months: int = 0) -> date:
    return working_day_on_or_after(add_months(clock_starts_on, 1 + extension_months))
