from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from portal.forms import MonthField, RefusesNullCharacters

from .periods import LONGEST_MONTHS, Period, month_start


class PeriodForm(RefusesNullCharacters, forms.Form):
    """The months the figures cover, typed as month and year (GET)."""

    start = MonthField(
        noun="Start month", label="From", help_text="For example, 4 2026"
    )
    end = MonthField(noun="End month", label="To", help_text="For example, 6 2026")

    def clean_end(self):
        end = self.cleaned_data.get("end")
        if end and end > month_start(timezone.localdate()):
            raise ValidationError(
                "End month must be this month or earlier", code="future"
            )
        return end

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "End month must be the same as or after the "
                               "start month")  # fmt: skip
            elif len(Period(start, end).months) > LONGEST_MONTHS:
                self.add_error(
                    "end",
                    f"The period can be at most {LONGEST_MONTHS} months: choose a "
                    "later start month or an earlier end month",
                )
        return data

    @property
    def period(self) -> Period:
        return Period(self.cleaned_data["start"], self.cleaned_data["end"])
